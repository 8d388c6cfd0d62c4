package graph

import (
	"context"
	"io"
	"math"
	"net/url"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/telemetry/atlas/stack"
)

// BenchmarkPNG700x300 renders a 700×300 graph of five lines over three
// hours (evaluation excluded) and encodes it as PNG.
func BenchmarkPNG700x300(b *testing.B) {
	src := stack.NewMemSource(60_000)
	end := time.Date(2024, 1, 1, 3, 0, 0, 0, time.UTC)
	vs := make([]float64, 200)
	for i := 0; i < 5; i++ {
		for j := range vs {
			vs[j] = 100*float64(i+1) + 50*math.Sin(float64(j)/20+float64(i))
		}
		src.Add(map[string]string{"name": "sps", "cluster": string(rune('a' + i))}, end.Add(-200*time.Minute).UnixMilli(), vs)
	}
	v, _ := url.ParseQuery("q=name,sps,:eq,(,cluster,),:by,:stack,name,sps,:eq,:max,1,:axis&e=2024-01-01T03:00&s=e-3h&tz=UTC&w=700&h=300")
	p, err := ParseParams(v, time.UTC)
	if err != nil {
		b.Fatal(err)
	}
	req, _ := p.Request(time.Now())
	res, err := (&stack.Evaluator{Source: src}).Evaluate(context.Background(), req)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if err := Write(io.Discard, p, res); err != nil {
			b.Fatal(err)
		}
	}
}
