package detect

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// rupturesCase is one case of ruptures_cases.json: ruptures' own output.
type rupturesCase struct {
	Method string `json:"method"`
	Cost   string `json:"cost"`
	Params struct {
		MinSize int      `json:"min_size"`
		Jump    int      `json:"jump"`
		Pen     *float64 `json:"pen"`
		NBkps   *int     `json:"n_bkps"`
		Epsilon *float64 `json:"epsilon"`
		Width   int      `json:"width"`
		Gamma   float64  `json:"gamma"`
		Order   int      `json:"order"`
	} `json:"params"`
	Expected        []int       `json:"expected_bkps"`
	RupturesSeconds float64     `json:"ruptures_seconds"`
	Generator       string      `json:"generator"`
	Signal          [][]float64 `json:"signal"`
}

// casesPath is the shared reference file, outside the repository.
var casesPath = filepath.Join("..", "..", "..", "..", "shared", "testdata", "changepoint", "ruptures_cases.json")

func loadCases(tb testing.TB) []rupturesCase {
	tb.Helper()
	raw, err := os.ReadFile(casesPath)
	if err != nil {
		tb.Skipf("reference cases not available: %v", err)
	}
	var f struct {
		Cases []rupturesCase `json:"cases"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		tb.Fatalf("parse %s: %v", casesPath, err)
	}
	return f.Cases
}

func (c rupturesCase) params() Params {
	return Params{
		Method: c.Method, Cost: c.Cost,
		Pen: c.Params.Pen, NBkps: c.Params.NBkps, Epsilon: c.Params.Epsilon,
		MinSize: c.Params.MinSize, Jump: c.Params.Jump, Width: c.Params.Width,
		CostParams: CostParams{Gamma: c.Params.Gamma, Order: c.Params.Order},
	}
}

func (c rupturesCase) name(i int) string {
	return fmt.Sprintf("%03d_%s_%s_n%d", i, c.Method, c.Cost, len(c.Signal))
}

// knownDifferences lists the cases where Gaffer returns another answer
// than the reference file, with the reason. Both are ar-cost cases, and in
// both the answer stored in the file is worse under ruptures' own
// objective than Gaffer's. Running ruptures at the same commit with the
// same NumPy 1.24.2 / SciPy 1.10.1 (Debian builds, OpenBLAS 0.3.21) returns
// Gaffer's answer for both, also when the six-decimal signal is perturbed
// by up to 5e-7; the reference run must have had a different lstsq
// (LAPACK gelsd) result for ar segment costs. Every other case, including
// the other two ar cases, matches.
var knownDifferences = map[int]string{
	64: "bottomup/ar n_bkps=1: ruptures' stored [252 300] costs 156.0056, Gaffer's [159 300] costs 144.3930 (ruptures ee1c8ff rerun returns [159 300])",
	67: "pelt/ar pen=4.6052: ruptures' stored partition has penalised cost 112.294, Gaffer's 49.267; Pelt is exact, so the reference costs differed (ruptures ee1c8ff rerun returns Gaffer's answer)",
}

func TestRupturesParity(t *testing.T) {
	cases := loadCases(t)
	matched := 0
	for i, c := range cases {
		sig, err := NewSignal(c.Signal)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		got, err := Detect(context.Background(), sig, c.params())
		if err != nil {
			t.Errorf("%s: %v", c.name(i), err)
			continue
		}
		if slices.Equal(got, c.Expected) {
			matched++
			continue
		}
		if reason, ok := knownDifferences[i]; ok {
			t.Logf("%s: known difference (%s): got %v, ruptures %v", c.name(i), reason, got, c.Expected)
			continue
		}
		t.Errorf("%s %+v: got %v, ruptures %v", c.name(i), c.Params, got, c.Expected)
	}
	t.Logf("parity: %d/%d cases identical to ruptures", matched, len(cases))
}
