package stack

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestGraphValuesBounded is issue #15 item 3 for Atlas: each :all is
// bounded by MaxLines, and a program of many of them by MaxValues.
func TestGraphValuesBounded(t *testing.T) {
	src := NewMemSource(60_000)
	for i := 0; i < 100; i++ {
		src.Add(map[string]string{"name": "cpu", "node": fmt.Sprint("n", i)}, t0.UnixMilli(), make([]float64, 60))
	}
	ev := &Evaluator{Source: src, Limits: Limits{MaxValues: 100 * 60 * 3}}
	req := func(program string) error {
		_, err := ev.Evaluate(context.Background(), Request{Query: program, Start: t0.Add(-time.Minute),
			End: t0.Add(59 * time.Minute), Step: time.Minute})
		return err
	}
	three := "name,cpu,:eq,:all,node,n,:re,:all,node,n.*,:re,:all"
	if err := req(three); err != nil {
		t.Fatalf("three :all of 100 lines × 60 points: %v", err)
	}
	err := req(three + ",node,n.+,:re,:all")
	if !errors.Is(err, ErrLimit) || !strings.Contains(err.Error(), "more than 18000 values (lines × datapoints)") {
		t.Fatalf("four: %v, want the values limit", err)
	}
}
