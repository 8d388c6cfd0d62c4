package tsdb

import (
	"sort"

	"github.com/RoaringBitmap/roaring/v2"
)

// indexReader is what matcher evaluation needs from an inverted index, in
// the head or in a block. Returned bitmaps are read-only.
type indexReader interface {
	// postings returns the series holding name=value, or nil.
	postings(name, value string) *roaring.Bitmap
	// labelValues returns the values of a label, in any order.
	labelValues(name string) []string
	// labelNames returns the label names, in any order.
	labelNames() []string
	// allPostings returns every series.
	allPostings() *roaring.Bitmap
}

// selectPostings returns the series matching every matcher, in a new bitmap.
func selectPostings(ir indexReader, ms []*Matcher) *roaring.Bitmap {
	// Matchers that cannot match an absent label narrow fastest; run them first.
	ordered := append([]*Matcher(nil), ms...)
	sort.SliceStable(ordered, func(i, j int) bool {
		return !ordered[i].Matches("") && ordered[j].Matches("")
	})
	var res *roaring.Bitmap
	for _, m := range ordered {
		bm := postingsFor(ir, m)
		if res == nil {
			res = bm
		} else {
			res.And(bm)
		}
		if res.IsEmpty() {
			return res
		}
	}
	if res == nil {
		return ir.allPostings().Clone()
	}
	return res
}

// postingsFor returns the series matching one matcher, in a new bitmap.
func postingsFor(ir indexReader, m *Matcher) *roaring.Bitmap {
	if m.Matches("") {
		// Series without the label match too: everything except the values
		// that fail.
		excl := valuesPostings(ir, m.Name, func(v string) bool { return !m.Matches(v) }, m.negatedLiterals())
		return roaring.AndNot(ir.allPostings(), excl)
	}
	lits, _ := m.literalValues()
	return valuesPostings(ir, m.Name, m.Matches, lits)
}

// valuesPostings unions the postings of a label's values that satisfy keep.
// When lits is non-nil the matching values are exactly lits.
func valuesPostings(ir indexReader, name string, keep func(string) bool, lits []string) *roaring.Bitmap {
	var bms []*roaring.Bitmap
	if lits != nil {
		for _, v := range lits {
			if bm := ir.postings(name, v); bm != nil {
				bms = append(bms, bm)
			}
		}
	} else {
		for _, v := range ir.labelValues(name) {
			if keep(v) {
				if bm := ir.postings(name, v); bm != nil {
					bms = append(bms, bm)
				}
			}
		}
	}
	switch len(bms) {
	case 0:
		return roaring.New()
	case 1:
		return bms[0].Clone()
	}
	return roaring.FastOr(bms...)
}

// negatedLiterals returns, for != and !~ with a literal set, the values that
// fail the matcher, so the index can look them up directly.
func (m *Matcher) negatedLiterals() []string {
	switch m.Type {
	case MatchNotEqual:
		return []string{m.Value}
	case MatchNotRegexp:
		return m.set
	}
	return nil
}
