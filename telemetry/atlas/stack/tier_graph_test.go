package stack_test

import (
	"context"
	"io"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/telemetry/atlas/graph"
	"github.com/gaffer-sre/gaffer/telemetry/atlas/stack"
)

// BenchmarkTierGraphPNG is the graph API's work for
// name,sps,:eq,:sum over 100,000 series × 3 h read from the memory tier:
// parameters, evaluation, a 700×300 PNG. Run it with -cpu 1.
func BenchmarkTierGraphPNG(b *testing.B) {
	db, tier, end := stack.TierStore(b)
	src := stack.TieredSource{Tier: tier, Store: stack.TSDBSource{DB: db}}
	v := url.Values{"q": {"name,sps,:eq,:sum"}, "s": {"e-3h"}, "e": {strconv.FormatInt(end.UnixMilli(), 10)},
		"w": {"700"}, "h": {"300"}, "format": {"png"}}
	b.ResetTimer()
	for b.Loop() {
		p, err := graph.ParseParams(v, time.UTC)
		if err != nil {
			b.Fatal(err)
		}
		req, err := p.Request(end)
		if err != nil {
			b.Fatal(err)
		}
		res, err := (&stack.Evaluator{Source: src}).Evaluate(context.Background(), req)
		if err != nil {
			b.Fatal(err)
		}
		if err := graph.Write(io.Discard, p, res); err != nil {
			b.Fatal(err)
		}
	}
}
