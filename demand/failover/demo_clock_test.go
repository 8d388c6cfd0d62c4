package failover

import (
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/clocktest"
)

// TestDemoDetectAtAnyTime checks, at every 7 minutes across two demo
// periods (six days), that the minute the demo runs detection at is ten
// minutes into an incident, and that the demo's history holds both of
// detection's baselines (a day and a week earlier).
// Before the history grew from eight to eleven days, the last-week
// baseline fell outside it for most of each period.
func TestDemoDetectAtAnyTime(t *testing.T) {
	det := demoSpec().Detection.WithDefaults()
	before := det.Window.D() // the baselines average this span before their time
	for _, at := range clocktest.Across(clocktest.Base.Add(demoPeriodMin*time.Minute), demoPeriodMin*time.Minute, 7*time.Minute) {
		now := at.Unix() / 60
		d := demoDetectAt(now)
		if d > now {
			t.Fatalf("now %s: detection at %s is in the future", at, time.Unix(d*60, 0).UTC())
		}
		if phase := (d - 10) % demoPeriodMin; phase != demoDropFrom {
			t.Fatalf("now %s: detection at %s is not ten minutes into an incident (phase %d)", at, time.Unix(d*60, 0).UTC(), phase)
		}
		oldest := now - demoDays*24*60
		need := d - 7*24*60 - int64(before/time.Minute)
		if need < oldest {
			t.Fatalf("now %s: detection at %s needs history from %s, the demo starts at %s", at,
				time.Unix(d*60, 0).UTC(), time.Unix(need*60, 0).UTC(), time.Unix(oldest*60, 0).UTC())
		}
	}
}
