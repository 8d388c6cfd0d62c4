package tsdb

import (
	"strings"
	"sync"

	"github.com/RoaringBitmap/roaring/v2"
)

// memIndex is the head's inverted index: label name → value → series refs.
// It also interns label strings and counts series per metric.
type memIndex struct {
	mu        sync.RWMutex
	postingsM map[string]map[string]*roaring.Bitmap
	all       *roaring.Bitmap
	symbols   map[string]symbol
	perMetric map[string]int
	series    int
}

// symbol is an interned string and its reference count.
type symbol struct {
	s    string
	refs int32
}

func newMemIndex() *memIndex {
	return &memIndex{
		postingsM: map[string]map[string]*roaring.Bitmap{},
		all:       roaring.New(),
		symbols:   map[string]symbol{},
		perMetric: map[string]int{},
	}
}

// intern returns a shared copy of s; the caller holds mu for writing.
func (ix *memIndex) intern(s string) string {
	sym, ok := ix.symbols[s]
	if !ok {
		sym.s = strings.Clone(s) // s may alias a caller's buffer
	}
	sym.refs++
	ix.symbols[sym.s] = sym
	return sym.s
}

func (ix *memIndex) release(s string) {
	sym := ix.symbols[s]
	if sym.refs--; sym.refs <= 0 {
		delete(ix.symbols, s)
		return
	}
	ix.symbols[s] = sym
}

// internLabels copies ls into interned strings; the caller holds mu.
func (ix *memIndex) internLabels(ls Labels) Labels {
	out := make(Labels, len(ls))
	for i, l := range ls {
		out[i] = Label{ix.intern(l.Name), ix.intern(l.Value)}
	}
	return out
}

// add indexes a series; the caller holds mu for writing.
func (ix *memIndex) add(ref uint32, ls Labels) {
	for _, l := range ls {
		vals := ix.postingsM[l.Name]
		if vals == nil {
			vals = map[string]*roaring.Bitmap{}
			ix.postingsM[l.Name] = vals
		}
		bm := vals[l.Value]
		if bm == nil {
			bm = roaring.New()
			vals[l.Value] = bm
		}
		bm.Add(ref)
	}
	ix.all.Add(ref)
	ix.perMetric[ls.Metric()]++
	ix.series++
}

// remove unindexes a series and releases its strings; the caller holds mu.
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
	for _, l := range ls {
		ix.release(l.Name)
		ix.release(l.Value)
	}
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
