package alerting

import (
	"math"
	"testing"
)

// TestChartSeriesShown: a rule's chart draws the series where the
// condition held first, leaves out series without any value, and draws
// no more than it is allowed.
func TestChartSeriesShown(t *testing.T) {
	nan := math.NaN()
	series := []ChartSeries{
		{Labels: map[string]string{"n": "empty"}, Values: []float64{nan, nan}, Breach: []bool{false, false}},
		{Labels: map[string]string{"n": "a"}, Values: []float64{0, 0}, Breach: []bool{false, false}},
		{Labels: map[string]string{"n": "b"}, Values: []float64{0, nan}, Breach: []bool{false, false}},
		{Labels: map[string]string{"n": "fired"}, Values: []float64{1, 5}, Breach: []bool{false, true}},
		{Labels: map[string]string{"n": "c"}, Values: []float64{nan, 2}, Breach: []bool{false, false}},
	}
	var got []string
	for _, s := range chartSeriesShown(series, 3) {
		got = append(got, s.Labels["n"])
	}
	if want := []string{"fired", "a", "b"}; len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("shown %v, want %v", got, want)
	}
	if n := len(chartSeriesShown(series, 10)); n != 4 {
		t.Errorf("%d series shown of 4 with data", n)
	}
}
