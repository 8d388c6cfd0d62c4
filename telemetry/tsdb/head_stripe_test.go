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
		s := testSeries(uint32(i+1), FromStrings(MetricName, fmt.Sprintf("m%d", i)))
		st.add(hash, s)
		all = append(all, s)
	}
	other := testSeries(9, FromStrings(MetricName, "other"))
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
	old := testSeries(20, FromStrings(MetricName, "again"))
	st.add(hash, old)
	old.deleted.Store(true)
	fresh := testSeries(21, FromStrings(MetricName, "again"))
	st.add(hash, fresh)
	if got := st.get(hash, fresh.labels()); got != fresh {
		t.Errorf("get after re-creation: %v, want the live series", got)
	}
}

// TestSeriesLastSample: the last in-order sample, which duplicate and
// out-of-order checks compare against, is the open chunk's last, across
// a chunk cut and after truncate has emptied the series.
func TestSeriesLastSample(t *testing.T) {
	const window, blockRange = 5_000, 10_000
	s := testSeries(1, FromStrings(MetricName, "m"))
	for _, ts := range []int64{1000, 2000, 3000} {
		if err := s.append(ts, float64(ts), window, blockRange); err != nil {
			t.Fatalf("append %d: %v", ts, err)
		}
	}
	checks := func(when string, want map[int64]error, v func(int64) float64) {
		t.Helper()
		for ts, w := range want {
			if err := s.check(ts, v(ts), window); err != w { //nolint:errorlint // sentinel errors, returned unwrapped
				t.Errorf("%s: check %d: %v, want %v", when, ts, err, w)
			}
		}
	}
	same := func(ts int64) float64 { return float64(ts) }
	other := func(ts int64) float64 { return -1 }
	checks("open chunk", map[int64]error{3000: errDuplicateSame, 2000: errDuplicateSame, 4000: nil, 2500: nil}, same)
	checks("open chunk", map[int64]error{3000: ErrDuplicateSample, 1000: ErrDuplicateSample}, other)
	if err := s.append(11_000, 11, window, blockRange); err != nil { // the next block: cuts the chunk
		t.Fatal(err)
	}
	if len(s.chunks) != 1 || s.enc.Len() != 1 {
		t.Fatalf("after the cut: %d closed chunks, %d open samples; want 1 and 1", len(s.chunks), s.enc.Len())
	}
	checks("after the cut", map[int64]error{11_000: ErrDuplicateSample, 3000: ErrOutOfOrder, 7000: nil}, same)
	if err := s.check(11_000, 11, window); err != errDuplicateSame { //nolint:errorlint // sentinel
		t.Errorf("after the cut: check the last sample again: %v, want errDuplicateSame", err)
	}
	if !s.truncate(20_000) {
		t.Fatal("truncate past every sample: the series is not empty")
	}
	// The head sends samples before its minValid (here 20,000) to the
	// backfill without asking the series, so it forgets what it dropped.
	checks("after truncate", map[int64]error{20_000: nil, 11_000: nil}, same)
	if err := s.append(25_000, 1, window, blockRange); err != nil {
		t.Fatal(err)
	}
	if err := s.check(25_000, 1, window); err != errDuplicateSame { //nolint:errorlint // sentinel
		t.Errorf("after truncate and a new sample: %v, want errDuplicateSame", err)
	}
}
