package stack

import (
	"testing"
)

// TestDerivativeAtACounterReset: the derivative of a counter that resets
// (a process restart) is never negative; the step of the reset counts the
// counter's new value, as a rate does. Grouped and summed counters keep
// their name, so the same holds for them. A line that is not a counter
// keeps Atlas's semantics, the opposite of :integral, falls included.
func TestDerivativeAtACounterReset(t *testing.T) {
	counter := []float64{2_400_000, 2_450_000, 2_500_000, 300, 900, nan, 1500}
	want := []float64{nan, 50_000, 50_000, 300, 600, nan, nan}
	for _, program := range []string{
		"name,http_requests_total,:eq,:derivative",
		"name,http_requests_total,:eq,:sum,:derivative",
		"name,http_requests_total,:eq,(,name,),:by,:derivative",
	} {
		src := memOf(map[string][]float64{"http_requests_total": counter})
		lines := evalLines(t, src, program, len(counter))
		if len(lines) != 1 || !sameValues(lines[0].Values, want, 0) {
			t.Errorf("%s: got %v, want %v", program, lines[0].Values, want)
		}
		for _, v := range lines[0].Values {
			if v < 0 {
				t.Errorf("%s: negative derivative %v", program, v)
			}
		}
	}

	gauge := []float64{5, 3, 4, 1}
	src := memOf(map[string][]float64{"queue_depth": gauge})
	lines := evalLines(t, src, "name,queue_depth,:eq,:derivative", len(gauge))
	if want := []float64{nan, -2, 1, -3}; len(lines) != 1 || !sameValues(lines[0].Values, want, 0) {
		t.Errorf("gauge: got %v, want %v", lines[0].Values, want)
	}
	lines = evalLines(t, memOf(map[string][]float64{"x": {-1, -1, -1}}), "name,x,:eq,:sum,:integral,:derivative", 3)
	if want := []float64{nan, -1, -1}; len(lines) != 1 || !sameValues(lines[0].Values, want, 0) {
		t.Errorf(":integral,:derivative of -1: got %v, want %v", lines[0].Values, want)
	}
}

func TestIsCounterName(t *testing.T) {
	for name, want := range map[string]bool{
		"http_requests_total": true, "rpc_duration_seconds_count": true, "rpc_duration_seconds_sum": true,
		"rpc_duration_seconds_bucket": true, "queue_depth": false, "total": false, "": false,
	} {
		if got := IsCounterName(name); got != want {
			t.Errorf("IsCounterName(%q) = %v, want %v", name, got, want)
		}
	}
}
