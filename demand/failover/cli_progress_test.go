package failover

import (
	"bytes"
	"strings"
	"testing"
)

// TestStepProgressEndsOnTheFinalState is issue #17 item 8: off a terminal
// the progress stayed at its first line ("forward 0/2") after success.
func TestStepProgressEndsOnTheFinalState(t *testing.T) {
	var out bytes.Buffer
	p := newStepProgress(&out)
	steps := func(status string) []StepRecord {
		return []StepRecord{{Seq: 1, Phase: "forward", Name: "scale", Status: status},
			{Seq: 2, Phase: "forward", Name: "steer", Status: status}}
	}
	p.show(&Execution{Phase: "forward", Step: 1, Steps: steps(StepPending)})
	p.done(&Execution{Phase: "forward", Step: 2, Steps: steps(StepSucceeded), WallSeconds: 1.5})
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if last := lines[len(lines)-1]; !strings.Contains(last, "forward 2/2") || !strings.Contains(last, "1.5s") {
		t.Fatalf("last progress line %q, want forward 2/2 after 1.5s; all:\n%s", last, out.String())
	}
}
