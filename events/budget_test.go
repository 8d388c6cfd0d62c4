package events

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/telemetry/spectator"
)

// replaceBomb multiplies data.s by ten eleven times: 100 GB from "a".
const replaceBomb = `data.s.replace("a", "aaaaaaaaaa").replace("a", "aaaaaaaaaa").replace("a", "aaaaaaaaaa")` +
	`.replace("a", "aaaaaaaaaa").replace("a", "aaaaaaaaaa").replace("a", "aaaaaaaaaa")` +
	`.replace("a", "aaaaaaaaaa").replace("a", "aaaaaaaaaa").replace("a", "aaaaaaaaaa")` +
	`.replace("a", "aaaaaaaaaa").replace("a", "aaaaaaaaaa").size() > 0`

// lineRecorder keeps the protocol lines a registry writes.
type lineRecorder struct {
	mu    sync.Mutex
	lines []string
}

func (r *lineRecorder) WriteLine(l []byte) {
	r.mu.Lock()
	r.lines = append(r.lines, string(l))
	r.mu.Unlock()
}
func (r *lineRecorder) Close() error { return nil }

func TestBudgetExceededIsCountedAndOtherRulesMatch(t *testing.T) {
	rec := &lineRecorder{}
	reg := spectator.NewRegistry(rec, nil)
	bomb := mustRule(t, "bomb", replaceBomb)
	bomb.stats.exceeded = reg.Counter("gaffer.events.celBudgetExceeded", nil)
	plain := mustRule(t, "plain", `data.s == "a"`)
	m := newMatcher([]*compiledRule{bomb, plain})
	for i := 0; i < 3; i++ {
		if got := strings.Join(matchNames(m, testEvent("t", "/s", `{"s":"a"}`)), ","); got != "plain" {
			t.Fatalf("event %d matched %q, want plain", i, got)
		}
	}
	st := bomb.stats.snapshot()
	if st.EvalErrors != 3 || st.BudgetExceeded != 3 || !strings.Contains(st.LastEvalError, "CEL cost limit of 1000000 units exceeded") {
		t.Fatalf("bomb rule stats %+v, want 3 budget errors", st)
	}
	if p := plain.stats.snapshot(); p.EvalErrors != 0 || p.BudgetExceeded != 0 {
		t.Fatalf("plain rule stats %+v", p)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	n := 0
	for _, l := range rec.lines {
		if strings.Contains(l, "gaffer.events.celBudgetExceeded") {
			n++
		}
	}
	if n != 3 {
		t.Fatalf("self-metric lines %q, want 3 increments", rec.lines)
	}
}

func TestTransformOverBudgetIsAnError(t *testing.T) {
	e, err := compileExpression("data", `{"big": `+strings.TrimSuffix(replaceBomb, ".size() > 0")+`}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	var act activation
	act.reset(testEvent("t", "/s", `{"s":"a"}`), time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	if _, err := evalJSON(e, &act); err == nil || !strings.Contains(err.Error(), "CEL cost limit") {
		t.Fatalf("evalJSON = %v, want the budget's error", err)
	}
}
