package tsdb

import "testing"

// TestMixedWorkloadDensity guards the disk goal: two hours of the mixed
// workload (docs/benchmarks.md, "TSDB") written as a block take at most
// one byte per sample, index included. The workload is seeded, so the
// figure is exact; an encoding change that loses density fails here.
func TestMixedWorkloadDensity(t *testing.T) {
	if testing.Short() {
		t.Skip("writes two hours of 6,300 series")
	}
	d := mixedDensity(t, 300)
	t.Logf("6,300 series, %.4f bytes/sample", d)
	if d > 1.0 {
		t.Errorf("%.4f bytes per sample, want at most 1.0", d)
	}
}
