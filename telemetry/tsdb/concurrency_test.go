package tsdb

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"
)

// TestConcurrentAppendQueryCompact runs writers, readers and compaction at
// once (meant for -race) and checks that every acknowledged sample is
// there. Writers run at different speeds, so a slow writer's batch may be
// refused with ErrTooOld once compaction has cut the head past it.
func TestConcurrentAppendQueryCompact(t *testing.T) {
	db := openTest(t, t.TempDir(), testOptions(nil))
	defer db.Close()
	const writers, series, steps = 4, 50, 400
	var wg sync.WaitGroup
	stop := make(chan struct{})
	acked := make([][]bool, writers) // acked[w][step]
	for w := range writers {
		acked[w] = make([]bool, steps)
		wg.Add(1)
		go func() {
			defer wg.Done()
			refs := make([]SeriesRef, series)
			for s := range steps {
				a := db.Appender()
				var err error
				for i := range series {
					ls := FromStrings(MetricName, "c", "w", fmt.Sprint(w), "i", fmt.Sprint(i))
					if refs[i], err = a.Append(refs[i], ls, int64(s)*60_000, float64(s)); err != nil {
						break
					}
				}
				if err != nil {
					a.Rollback()
				} else {
					err = a.Commit()
				}
				switch {
				case err == nil:
					acked[w][s] = true
				case !errors.Is(err, ErrTooOld):
					t.Error(err)
					return
				}
			}
		}()
	}
	var readers sync.WaitGroup
	readers.Add(2)
	go func() {
		defer readers.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			query(t, db, 0, math.MaxInt64, nil, MustMatcher(MatchRegexp, "i", "1.*"))
		}
	}()
	go func() {
		defer readers.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if err := db.Compact(); err != nil {
				t.Error(err)
			}
		}
	}()
	wg.Wait()
	close(stop)
	readers.Wait()
	// Samples of a batch that committed after a cut of the head went to
	// the backfill buffer, visible once the next compaction writes them.
	if err := db.Compact(); err != nil {
		t.Fatal(err)
	}
	got := query(t, db, 0, math.MaxInt64, nil)
	total := 0
	for w := range writers {
		for i := range series {
			ls := FromStrings(MetricName, "c", "w", fmt.Sprint(w), "i", fmt.Sprint(i))
			have := map[int64]bool{}
			for _, s := range got[ls.String()] {
				have[s.t] = true
			}
			for s, ok := range acked[w] {
				if ok && !have[int64(s)*60_000] {
					t.Fatalf("%s: acknowledged step %d is missing", ls, s)
				}
				if ok {
					total++
				}
			}
		}
	}
	if total < steps*series {
		t.Fatalf("only %d samples acknowledged", total)
	}
}
