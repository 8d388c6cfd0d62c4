package main

import "testing"

// TestBenchLabelsDistinct: two generated series with one label set would
// make the workload write duplicate and out-of-order samples.
func TestBenchLabelsDistinct(t *testing.T) {
	seen := map[string]int{}
	for i := range 20_000 {
		ls, _ := benchLabels(i)
		if j, ok := seen[ls.String()]; ok {
			t.Fatalf("series %d and %d are both %s", j, i, ls)
		}
		seen[ls.String()] = i
	}
}
