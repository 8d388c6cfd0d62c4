package tsdb

import "github.com/gaffer-sre/gaffer/telemetry/tsdb/tsdbtest"

// workload feeds tsdbtest's mixed workload into a store.
type workload struct {
	*tsdbtest.Mixed
	labels [][]Labels
	refs   [][]SeriesRef
}

func newWorkload(targets int, seed uint64) *workload {
	w := &workload{Mixed: tsdbtest.NewMixed(targets, seed)}
	for _, t := range w.Targets {
		ls := make([]Labels, len(t.Series))
		for i, s := range t.Series {
			ls[i] = FromStrings(s...)
		}
		w.labels = append(w.labels, ls)
		w.refs = append(w.refs, make([]SeriesRef, len(ls)))
	}
	return w
}

// numSeries returns the number of series.
func (w *workload) numSeries() int { return w.NumSeries() }

// fill appends the workload's samples for [from, to) in batches, one
// scrape of every target per batch.
func (w *workload) fill(db *DB, from, to int64) error {
	var err error
	for ts := from; ts < to && err == nil; ts += 10_000 {
		a := db.Appender()
		w.Scrape(ts, func(ti, i int, ts int64, v float64) {
			if err != nil {
				return
			}
			w.refs[ti][i], err = a.Append(w.refs[ti][i], w.labels[ti][i], ts, v)
		})
		if err != nil {
			a.Rollback()
			return err
		}
		err = a.Commit()
	}
	return err
}
