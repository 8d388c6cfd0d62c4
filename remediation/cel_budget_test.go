package remediation

import (
	"errors"
	"strings"
	"testing"

	"github.com/gaffer-sre/gaffer/internal/platform/celbudget"
)

// TestTemplateOverBudgetFails is issue #15 item 2 for runbooks: a
// template whose expression builds a huge string with chained replace()
// stops with the budget's error instead of allocating it.
func TestTemplateOverBudgetFails(t *testing.T) {
	bomb := `params.s` + strings.Repeat(`.replace("a", "aaaaaaaaaa")`, 11)
	tm, probs := compileTmpl("msg: ${{ "+bomb+" }}", "/steps/0/with/msg")
	if len(probs) != 0 {
		t.Fatalf("compile: %v", probs)
	}
	_, err := tm.eval(map[string]any{"params": map[string]any{"s": "a"}})
	if !errors.Is(err, celbudget.ErrExceeded) || !strings.Contains(err.Error(), "CEL cost limit of 1000000 units exceeded") {
		t.Fatalf("eval = %v, want the CEL budget's error", err)
	}
	// A normal template still works.
	ok, _ := compileTmpl("${{ params.s.replace(\"a\", \"b\") }}", "/x")
	if v, err := ok.eval(map[string]any{"params": map[string]any{"s": "aa"}}); err != nil || v != "bb" {
		t.Fatalf("eval = %v, %v; want bb", v, err)
	}
}
