package tsdb

import (
	"strings"
	"sync"

	"github.com/RoaringBitmap/roaring/v2"
)

// memIndex is the head's inverted index: label name → value → series refs.
// It also counts series per metric. Its keys are its own copies: the
// labels a series is added with may alias a caller's buffer.
type memIndex struct {
	mu        sync.RWMutex
	postingsM map[string]map[string]*roaring.Bitmap
	all       *roaring.Bitmap
	perMetric map[string]int
	series    int
}

func newMemIndex() *memIndex {
	return &memIndex{
		postingsM: map[string]map[string]*roaring.Bitmap{},
		all:       roaring.New(),
		perMetric: map[string]int{},
	}
}

// add indexes a series; the caller holds mu for writing.
func (ix *memIndex) add(ref uint32, ls Labels) {
	for _, l := range ls {
		vals := ix.postingsM[l.Name]
		if vals == nil {
			vals = map[string]*roaring.Bitmap{}
			ix.postingsM[strings.Clone(l.Name)] = vals
		}
		bm := vals[l.Value]
		if bm == nil {
			bm = roaring.New()
			vals[strings.Clone(l.Value)] = bm
		}
		bm.Add(ref)
	}
	ix.all.Add(ref)
	if m := ls.Metric(); ix.perMetric[m] == 0 {
		ix.perMetric[strings.Clone(m)] = 1
	} else {
		ix.perMetric[m]++
	}
	ix.series++
}

// remove unindexes a series; the caller holds mu for writing.
func (ix *memIndex) remove(ref uint32, ls Labels) {
	for _, l := range ls {
		vals := ix.postingsM[l.Name]
		if bm := vals[l.Value]; bm != nil {
			bm.Remove(ref)
			if bm.IsEmpty() {
				delete(vals, l.Value)
				if len(vals) == 0 {
					delete(ix.postingsM, l.Name)
				}
			}
		}
	}
	ix.all.Remove(ref)
	if m := ls.Metric(); ix.perMetric[m] <= 1 {
		delete(ix.perMetric, m)
	} else {
		ix.perMetric[m]--
	}
	ix.series--
}

// The indexReader methods; the caller holds mu for reading.

func (ix *memIndex) postings(name, value string) *roaring.Bitmap {
	return ix.postingsM[name][value]
}

func (ix *memIndex) labelValues(name string) []string {
	vals := ix.postingsM[name]
	out := make([]string, 0, len(vals))
	for v := range vals {
		out = append(out, v)
	}
	return out
}

func (ix *memIndex) labelNames() []string {
	out := make([]string, 0, len(ix.postingsM))
	for n := range ix.postingsM {
		out = append(out, n)
	}
	return out
}

func (ix *memIndex) allPostings() *roaring.Bitmap { return ix.all }
