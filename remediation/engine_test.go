package remediation_test

import (
	"testing"
)

func TestChainOfNoopSteps(t *testing.T) {
	s := start(t)
	s.apply(`
name: chain
params:
  type: object
  properties:
    n: {type: integer, default: 2}
steps:
  - name: a
    type: noop
    output: {x: "${{ params.n * 2 }}"}
  - name: b
    type: noop
    output: "${{ steps.a.output.x + 1 }}"
    next:
      - if: result > 100
        goto: fail
      - goto: c
  - name: c
    type: noop
    output: "done ${{ steps.b.output }}"
`)
	id := s.run("chain", map[string]any{"n": 3})
	ex := s.waitStatus(id, "succeeded", "failed")
	if ex.Status != "succeeded" {
		t.Fatalf("status %s: %s", ex.Status, ex.Error)
	}
	if got := string(step(ex, "c").Output); got != `"done 7"` {
		t.Fatalf("c output %s", got)
	}
}
