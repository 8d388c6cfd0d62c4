package tsdb

import (
	"cmp"
	"fmt"
	"slices"
)

// dropStored removes from waiting the backfilled samples whose timestamps
// a raw block already holds for the same series: the first-written value
// wins, as in the head. Without it a repeated sample would be written to
// a second, overlapping block, and every reader that adds the parts of a
// series — consolidation, and the rollups of the backfilled block — would
// count it twice. With it, overlapping blocks never share a timestamp, so
// their parts and their rollup windows may be added.
func (db *DB) dropStored(waiting map[*memSeries][]sample) error {
	mint, maxt := int64(1<<63-1), int64(-1<<63)
	for _, ss := range waiting {
		if len(ss) > 0 {
			mint, maxt = min(mint, ss[0].t), max(maxt, ss[len(ss)-1].t)
		}
	}
	if mint > maxt {
		return nil
	}
	q, err := db.Querier(mint, maxt)
	if err != nil {
		return err
	}
	defer q.Close()
	for _, b := range q.blocks {
		if b.meta.Resolution != 0 {
			continue
		}
		for s, ss := range waiting {
			i, _ := slices.BinarySearchFunc(ss, b.meta.MinTime, func(x sample, t int64) int { return cmp.Compare(x.t, t) })
			j, _ := slices.BinarySearchFunc(ss, b.meta.MaxTime, func(x sample, t int64) int { return cmp.Compare(x.t, t) })
			if i == j {
				continue
			}
			stored, err := blockTimes(b, s.labels(), ss[i].t, ss[j-1].t)
			if err != nil {
				return fmt.Errorf("backfill: read block %s for %s: %w", b.meta.ID, describe(s.labels()), err)
			}
			if len(stored) == 0 {
				continue
			}
			kept := ss[:i]
			for _, x := range ss[i:j] {
				if _, dup := slices.BinarySearch(stored, x.t); !dup {
					kept = append(kept, x)
				}
			}
			waiting[s] = append(kept, ss[j:]...)
		}
	}
	for s, ss := range waiting {
		if len(ss) == 0 {
			delete(waiting, s)
		}
	}
	return nil
}

// blockTimes returns the sorted timestamps in [mint, maxt] of the raw
// block's series with exactly the labels ls.
func blockTimes(b *block, ls Labels, mint, maxt int64) ([]int64, error) {
	if len(ls) == 0 {
		return nil, nil
	}
	bm := b.index.postings(ls[0].Name, ls[0].Value)
	if bm == nil || bm.IsEmpty() {
		return nil, nil
	}
	bm = bm.Clone()
	for _, l := range ls[1:] {
		p := b.index.postings(l.Name, l.Value)
		if p == nil {
			return nil, nil
		}
		bm.And(p)
	}
	var out []int64
	it := bm.Iterator()
	for it.HasNext() {
		got, metas, err := b.index.series(it.Next())
		if err != nil {
			return nil, err
		}
		if !got.Equal(ls) {
			continue
		}
		cs, err := b.chunks(metas, kindRaw, mint, maxt)
		ci := newChunksIterator(cs, mint, maxt, err)
		for ci.Next() {
			t, _ := ci.At()
			out = append(out, t)
		}
		if err := ci.Err(); err != nil {
			return nil, err
		}
	}
	slices.Sort(out)
	return out, nil
}
