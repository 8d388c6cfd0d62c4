package events_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gaffer-sre/gaffer/events"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
)

// TestReplaceBombDoesNotStopTheStream is issue #15 item 2: a rule whose
// condition builds a huge string with chained replace() fails on the
// events that trigger it, is counted, and every other event (and the
// replay) goes on.
func TestReplaceBombDoesNotStopTheStream(t *testing.T) {
	ts := start(t, platformtest.Backend{}, "")
	src := "/" + runID()
	bomb := `data.s.replace("a", "aaaaaaaaaa").replace("a", "aaaaaaaaaa").replace("a", "aaaaaaaaaa")` +
		`.replace("a", "aaaaaaaaaa").replace("a", "aaaaaaaaaa").replace("a", "aaaaaaaaaa")` +
		`.replace("a", "aaaaaaaaaa").replace("a", "aaaaaaaaaa").replace("a", "aaaaaaaaaa")` +
		`.replace("a", "aaaaaaaaaa").replace("a", "aaaaaaaaaa").size() > 0`
	r := ts.createRule(map[string]any{"name": "bomb", "condition": `source == "` + src + `" && (has(data.s) ? ` + bomb + ` : true)`,
		"actions": []map[string]any{{"type": "publish", "event_type": "gaffer.test.derived"}}})
	for i := 0; i < 6; i++ {
		data := map[string]any{"n": i}
		if i%2 == 0 {
			data["s"] = "a"
		}
		ts.publish(map[string]any{"id": fmt.Sprint("b", i), "source": src, "type": "gaffer.test", "data": data})
	}
	ts.drained() // every event was processed: the stream went on

	var live events.Rule
	must(t, ts.do("GET", "/api/v1/events/rules/"+r.ID, nil), 200).JSON(t, &live)
	if st := live.Stats; st == nil || st.Matched != 3 || st.EvalErrors != 3 || st.BudgetExceeded != 3 ||
		!strings.Contains(st.LastEvalError, "CEL cost limit of 1000000 units exceeded") {
		t.Fatalf("live stats %+v, want 3 matched and 3 stopped by the budget", live.Stats)
	}

	var res events.ReplayResult
	must(t, ts.do("POST", "/api/v1/events/rules/"+r.ID+"/replay", map[string]any{"since": "1h"}), 200).JSON(t, &res)
	if res.Scanned < 6 || res.Matched != 3 || res.EvalErrors != 3 || res.BudgetExceeded != 3 || res.Truncated ||
		!strings.Contains(res.LastEvalError, "CEL cost limit") {
		t.Fatalf("replay: %+v, want every event scanned, 3 matched, 3 stopped by the budget", res)
	}
}
