package alerting_test

import (
	"os"
	"strings"
	"testing"

	"github.com/gaffer-sre/gaffer/alerting"
)

// TestAtScaleAlertRulesCompile: the remote-write alert rules that
// docs/metrics.md gives to copy parse and compile, and watch the
// self-metrics the sender reports.
func TestAtScaleAlertRulesCompile(t *testing.T) {
	b, err := os.ReadFile("../docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i := strings.Index(doc, "An alert rule to keep")
	if i < 0 {
		t.Fatal(`docs/metrics.md has no "An alert rule to keep" in its At scale section`)
	}
	block := doc[i:]
	start := strings.Index(block, "```yaml\n")
	end := strings.Index(block[start+8:], "```")
	if start < 0 || end < 0 {
		t.Fatal("no yaml block after \"An alert rule to keep\"")
	}
	specs, err := alerting.ParseRuleFile([]byte(block[start+8 : start+8+end]))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"gaffer_metrics_remote_write_dropped_samples_total", "gaffer_metrics_remote_write_pending_samples"} {
		found := false
		for _, s := range specs {
			if _, err := alerting.Compile(s); err != nil {
				t.Fatalf("rule %s: %v", s.Name, err)
			}
			found = found || strings.Contains(s.PromQL, want)
		}
		if !found {
			t.Errorf("no documented rule watches %s", want)
		}
	}
}
