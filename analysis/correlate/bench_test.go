package correlate

import (
	"context"
	"runtime"
	"testing"
)

// benchScenario is 10,000 candidates of 1,440 points, the anomaly in the
// last hour.
func benchScenario(b *testing.B) (*Target, [][]float64) {
	b.Helper()
	sc := NewScenario(7, ScenarioParams{N: 10_000, K: 10})
	tg, err := NewTarget(sc.Target, sc.Window, Params{MaxLag: 10})
	if err != nil {
		b.Fatal(err)
	}
	return tg, sc.Candidates
}

// BenchmarkRank10k is the performance standard: rank 10,000 candidates
// of 1,440 points against one target with a lag search of ±10 steps, on
// one core.
func BenchmarkRank10k(b *testing.B) {
	tg, cands := benchScenario(b)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	b.ResetTimer()
	done := measureCPU(b)
	for b.Loop() {
		if _, err := Rank(context.Background(), tg, cands, 1); err != nil {
			b.Fatal(err)
		}
	}
	done()
}

// BenchmarkScore is the cost of one candidate.
func BenchmarkScore(b *testing.B) {
	tg, cands := benchScenario(b)
	s := tg.NewScorer()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		s.Score(cands[i%len(cands)])
		i++
	}
	b.ReportMetric(float64(tg.To-tg.From), "focus-steps")
}
