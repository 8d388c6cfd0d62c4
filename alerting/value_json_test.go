package alerting

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// TestAlertValueJSON: an alert or transition whose value is NaN or
// infinite encodes with value null (encoding/json refuses NaN, which
// failed the whole alert list), and null decodes back as NaN.
func TestAlertValueJSON(t *testing.T) {
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1), 0.25} {
		b, err := json.Marshal([]any{Alert{RuleID: "r", Value: v}, Transition{RuleID: "r", Value: v}})
		if err != nil {
			t.Fatalf("value %v: %v", v, err)
		}
		finite := !math.IsNaN(v) && !math.IsInf(v, 0)
		if want := `"value":null`; !finite && strings.Count(string(b), want) != 2 {
			t.Errorf("value %v: %s, want %s twice", v, b, want)
		}
		var back []json.RawMessage
		json.Unmarshal(b, &back)
		var a Alert
		var tr Transition
		if err := json.Unmarshal(back[0], &a); err != nil || a.RuleID != "r" {
			t.Fatalf("decode alert: %+v, %v", a, err)
		}
		if err := json.Unmarshal(back[1], &tr); err != nil || tr.RuleID != "r" {
			t.Fatalf("decode transition: %+v, %v", tr, err)
		}
		if finite && (a.Value != v || tr.Value != v) || !finite && (!math.IsNaN(a.Value) || !math.IsNaN(tr.Value)) {
			t.Errorf("value %v decoded as %v and %v", v, a.Value, tr.Value)
		}
	}
}
