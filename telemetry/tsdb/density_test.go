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
	db := openTest(t, t.TempDir(), benchOptions())
	defer db.Close()
	w := newWorkload(300, 2)
	start := int64(1_700_000_000_000)
	start -= start % (2 * 3_600_000)
	if err := w.fill(db, start, start+2*3_600_000); err != nil {
		t.Fatal(err)
	}
	if err := db.FlushHead(); err != nil {
		t.Fatal(err)
	}
	st, err := db.Stats(0)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d series, %.4f bytes/sample", w.numSeries(), st.BytesPerSample)
	if st.BytesPerSample > 1.0 {
		t.Errorf("%.4f bytes per sample, want at most 1.0", st.BytesPerSample)
	}
}
