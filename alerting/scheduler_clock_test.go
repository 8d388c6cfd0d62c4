package alerting

import (
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/clocktest"
)

// TestScheduleAtAnyTime puts a rule into the scheduler at every time of
// clocktest.DaySweep, for intervals that divide an hour, that do not, and
// a day: its first evaluation is the next grid point (a multiple of the
// interval since the epoch) plus the rule's fixed offset, within one
// interval of now; a requeue moves it one interval on; and a requeue
// three and a half intervals late skips the points it cannot catch up
// with, counting them, and runs the latest at once.
func TestScheduleAtAnyTime(t *testing.T) {
	for _, every := range []time.Duration{15 * time.Second, time.Minute, 7 * time.Minute, time.Hour, 24 * time.Hour} {
		for _, at := range clocktest.DaySweep() {
			clock := clocktest.NewManual(at)
			sc := newScheduler(&Service{now: clock.Now})
			r := &StoredRule{Rule: &Rule{ID: "rule-" + every.String(), every: every}}
			sc.put(r, nil, "")
			e := sc.byID[r.ID]
			off := offset(r.ID, every)
			if e.next.UnixMilli()%every.Milliseconds() != 0 || !e.due.Equal(e.next.Add(off)) {
				t.Fatalf("every %s at %s: next %s due %s (offset %s)", every, at.Format("15:04"), e.next, e.due, off)
			}
			if !e.due.After(at) || e.due.Sub(at) > every {
				t.Fatalf("every %s at %s: first due %s, want within one interval after", every, at.Format("15:04"), e.due)
			}
			first := e.due
			pop := func() { sc.queue = sc.queue[:0]; e.index = -1 } // as the loop does
			pop()
			clock.Set(first)
			sc.requeue(e)
			if !e.due.Equal(first.Add(every)) || e.health.Missed != 0 {
				t.Fatalf("every %s at %s: after one evaluation due %s (missed %d), want %s", every, at.Format("15:04"), e.due, e.health.Missed, first.Add(every))
			}
			pop()
			clock.Set(e.due.Add(every*3 + every/2))
			sc.requeue(e)
			// Three and a half intervals late: the two points wholly
			// missed are skipped, the third runs at once.
			if e.health.Missed != 2 || e.due.After(clock.Now()) || !e.due.After(clock.Now().Add(-every)) || e.due.Sub(e.next) != off {
				t.Fatalf("every %s at %s: late requeue due %s, missed %d", every, at.Format("15:04"), e.due, e.health.Missed)
			}
		}
	}
}
