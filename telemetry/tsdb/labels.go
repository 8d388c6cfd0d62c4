package tsdb

import (
	"hash/maphash"
	"sort"
	"strconv"
	"strings"
)

// MetricName is the label that holds a series' metric name. Atlas's "name"
// tag is stored under it too (the Atlas layer maps one to the other).
const MetricName = "__name__"

// Label is one tag of a series.
type Label struct {
	Name, Value string
}

// Labels is a series identity: labels sorted by name, names unique.
type Labels []Label

// FromStrings builds Labels from name, value pairs, sorting them. It panics
// on an odd number of arguments.
func FromStrings(nv ...string) Labels {
	if len(nv)%2 != 0 {
		panic("tsdb.FromStrings: odd number of arguments")
	}
	ls := make(Labels, 0, len(nv)/2)
	for i := 0; i < len(nv); i += 2 {
		ls = append(ls, Label{nv[i], nv[i+1]})
	}
	sort.Sort(ls)
	return ls
}

// FromMap builds sorted Labels from a map.
func FromMap(m map[string]string) Labels {
	ls := make(Labels, 0, len(m))
	for k, v := range m {
		ls = append(ls, Label{k, v})
	}
	sort.Sort(ls)
	return ls
}

// Len implements sort.Interface.
func (ls Labels) Len() int { return len(ls) }

// Less implements sort.Interface.
func (ls Labels) Less(i, j int) bool { return ls[i].Name < ls[j].Name }

// Swap implements sort.Interface.
func (ls Labels) Swap(i, j int) { ls[i], ls[j] = ls[j], ls[i] }

// Get returns the value of the named label, or "".
func (ls Labels) Get(name string) string {
	for _, l := range ls {
		if l.Name == name {
			return l.Value
		}
	}
	return ""
}

// Metric returns the metric name.
func (ls Labels) Metric() string { return ls.Get(MetricName) }

// Copy returns a copy that shares no storage with ls.
func (ls Labels) Copy() Labels { return append(Labels(nil), ls...) }

// String formats ls like Prometheus: name{k="v", ...}.
func (ls Labels) String() string {
	var b strings.Builder
	b.WriteString(ls.Metric())
	b.WriteByte('{')
	first := true
	for _, l := range ls {
		if l.Name == MetricName {
			continue
		}
		if !first {
			b.WriteString(", ")
		}
		first = false
		b.WriteString(l.Name)
		b.WriteByte('=')
		b.WriteString(strconv.Quote(l.Value))
	}
	b.WriteByte('}')
	return b.String()
}

// Equal reports whether two label sets are identical.
func (ls Labels) Equal(o Labels) bool {
	if len(ls) != len(o) {
		return false
	}
	for i := range ls {
		if ls[i] != o[i] {
			return false
		}
	}
	return true
}

// Compare orders label sets: label by label, name then value; a prefix
// sorts first.
func Compare(a, b Labels) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if c := strings.Compare(a[i].Name, b[i].Name); c != 0 {
			return c
		}
		if c := strings.Compare(a[i].Value, b[i].Value); c != 0 {
			return c
		}
	}
	return len(a) - len(b)
}

// sorted reports whether names are strictly increasing.
func (ls Labels) sorted() bool {
	for i := 1; i < len(ls); i++ {
		if ls[i-1].Name >= ls[i].Name {
			return false
		}
	}
	return true
}

// hashSeed is fixed per process; hashes are never persisted.
var hashSeed = maphash.MakeSeed()

// newHasher returns a hasher seeded for hashLabels.
func newHasher() *maphash.Hash {
	h := new(maphash.Hash)
	h.SetSeed(hashSeed)
	return h
}

// hashLabels hashes a sorted label set without allocating.
func hashLabels(h *maphash.Hash, ls Labels) uint64 {
	h.Reset()
	for _, l := range ls {
		h.WriteString(l.Name)
		h.WriteByte(0xff)
		h.WriteString(l.Value)
		h.WriteByte(0xff)
	}
	return h.Sum64()
}
