package tsdb

import (
	"fmt"
	"testing"
)

// TestStripeConflicts files series that share a hash, then removes them
// in an order that moves a conflict into byHash, and checks that every
// series still filed is found and no removed one is.
func TestStripeConflicts(t *testing.T) {
	st := &stripe{byHash: map[uint64]*memSeries{}, conflicts: map[uint64][]*memSeries{}}
	const hash = 42
	var all []*memSeries
	for i := range 4 {
		s := newMemSeries(uint32(i+1), FromStrings(MetricName, fmt.Sprintf("m%d", i)))
		st.add(hash, s)
		all = append(all, s)
	}
	other := newMemSeries(9, FromStrings(MetricName, "other"))
	st.add(7, other)
	check := func(live []*memSeries, gone []*memSeries) {
		t.Helper()
		for _, s := range live {
			if got := st.get(hash, s.labels()); got != s {
				t.Errorf("get %s: %v, want the series filed", s.labels(), got)
			}
		}
		for _, s := range gone {
			if got := st.get(hash, s.labels()); got != nil {
				t.Errorf("get %s after remove: %v, want nil", s.labels(), got)
			}
		}
		if st.get(7, other.labels()) != other {
			t.Error("the series of another hash is lost")
		}
	}
	check(all, nil)
	st.remove(hash, all[0]) // the one in byHash: a conflict takes its place
	check(all[1:], all[:1])
	st.remove(hash, all[2]) // a conflict
	check([]*memSeries{all[1], all[3]}, []*memSeries{all[0], all[2]})
	st.remove(hash, all[1])
	st.remove(hash, all[3])
	check(nil, all)
	if len(st.byHash) != 1 || len(st.conflicts) != 0 {
		t.Errorf("after removing all: %d in byHash, %d conflict lists; want 1 and 0", len(st.byHash), len(st.conflicts))
	}
	// A deleted series is skipped for a live one of the same labels.
	old := newMemSeries(20, FromStrings(MetricName, "again"))
	st.add(hash, old)
	old.deleted.Store(true)
	fresh := newMemSeries(21, FromStrings(MetricName, "again"))
	st.add(hash, fresh)
	if got := st.get(hash, fresh.labels()); got != fresh {
		t.Errorf("get after re-creation: %v, want the live series", got)
	}
}
