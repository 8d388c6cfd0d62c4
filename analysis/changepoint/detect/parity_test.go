package detect

import (
	"compress/gzip"
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
	Expected        []int   `json:"expected_bkps"`
	RupturesSeconds float64 `json:"ruptures_seconds"`
	Generator       string  `json:"generator"`
	// RoundingTie marks a generated case that ruptures answers otherwise
	// once its segment costs move by 1e-12 of their size; TieBkps are
	// those other answers.
	RoundingTie bool        `json:"rounding_tie"`
	TieBkps     [][]int     `json:"tie_bkps"`
	Signal      [][]float64 `json:"signal"`
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

// generatedPath is the second reference file, in the repository: cases
// made by testdata/generate_cases.py with ruptures built from source.
var generatedPath = filepath.Join("testdata", "ruptures_cases_generated.json.gz")

// loadGeneratedCases reads the gzip'd cases of generatedPath.
func loadGeneratedCases(tb testing.TB) []rupturesCase {
	tb.Helper()
	f, err := os.Open(generatedPath)
	if err != nil {
		tb.Fatalf("open %s: %v", generatedPath, err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		tb.Fatalf("%s: %v", generatedPath, err)
	}
	var cases struct {
		Cases []rupturesCase `json:"cases"`
	}
	if err := json.NewDecoder(zr).Decode(&cases); err != nil {
		tb.Fatalf("parse %s: %v", generatedPath, err)
	}
	if len(cases.Cases) == 0 {
		tb.Fatalf("%s holds no cases", generatedPath)
	}
	return cases.Cases
}

// generatedExcused lists the generated cases that may answer otherwise
// than ruptures, and why. Each is a rounding tie (rounding_tie: ruptures
// itself answers otherwise once its costs move by 1e-12) with a cost whose
// NumPy, BLAS or LAPACK rounding Gaffer does not reproduce bit for bit, so
// the last bits choose among tied answers. Every other case, rounding ties
// with the l1, l2, cosine and KernelCPD costs included, must match
// exactly.
var generatedExcused = map[string]string{
	// np.linalg.inv of the covariance (LAPACK getrf/getri, blocked) and
	// the products with it (BLAS dgemm).
	"021_binseg_mahalanobis_n2000":   "mahalanobis: LAPACK inverse, BLAS products",
	"553_window_mahalanobis_n250":    "mahalanobis: LAPACK inverse, BLAS products",
	"722_binseg_mahalanobis_n250":    "mahalanobis: LAPACK inverse, BLAS products",
	"1320_bottomup_mahalanobis_n250": "mahalanobis: LAPACK inverse, BLAS products",
	"1352_window_mahalanobis_n120":   "mahalanobis: LAPACK inverse, BLAS products",
	// np.linalg.lstsq (LAPACK gelsd: an SVD by divide and conquer).
	"482_binseg_linear_n40":   "linear: LAPACK least squares",
	"596_binseg_linear_n250":  "linear: LAPACK least squares",
	"822_binseg_linear_n250":  "linear: LAPACK least squares",
	"937_binseg_linear_n200":  "linear: LAPACK least squares",
	"1052_binseg_linear_n250": "linear: LAPACK least squares",
	"1357_dynp_linear_n150":   "linear: LAPACK least squares",
	"1735_binseg_linear_n150": "linear: LAPACK least squares",
	"1851_binseg_linear_n300": "linear: LAPACK least squares",
	"2080_binseg_linear_n300": "linear: LAPACK least squares",
	"975_bottomup_ar_n80":     "ar: LAPACK least squares on the lagged signal",
	// ruptures sums np.exp of the Gram block row by row (pairwise within
	// a row) for every segment; Gaffer sums its own exp (within 0.52 ulp,
	// not NumPy's bits) in running column sums, O(1) per segment.
	"1503_binseg_rbf_n300": "rbf: NumPy's exp and summation order",
	"2133_window_rbf_n250": "rbf: NumPy's exp and summation order",
}

// TestRupturesParityGenerated requires ruptures' breakpoints on every
// generated case: every method, cost and stopping rule, continuous and
// tie-heavy signals, n up to 2,000. An excused case (generatedExcused)
// must still be a valid segmentation, reported with whether ruptures
// returned it under one of the perturbations.
func TestRupturesParityGenerated(t *testing.T) {
	cases := loadGeneratedCases(t)
	matched, perturbed, otherTie, seen := 0, 0, 0, 0
	for i, c := range cases {
		sig, err := NewSignal(c.Signal)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		got, err := Detect(context.Background(), sig, c.params())
		if err != nil {
			t.Errorf("%s %s %+v: %v", c.name(i), c.Generator, c.Params, err)
			continue
		}
		_, excused := generatedExcused[c.name(i)]
		if excused {
			seen++
		}
		if slices.Equal(got, c.Expected) {
			if excused {
				t.Errorf("%s is in generatedExcused but identical to ruptures: remove it from the list", c.name(i))
			}
			matched++
			continue
		}
		if !excused || !c.RoundingTie {
			t.Errorf("%s %s %+v: got %v, ruptures %v", c.name(i), c.Generator, c.Params, got, c.Expected)
			continue
		}
		if err := checkBkps(got, sig.Len(), c.Params.NBkps); err != nil {
			t.Errorf("%s: a rounding tie, but %v: %v", c.name(i), got, err)
			continue
		}
		if slices.ContainsFunc(c.TieBkps, func(b []int) bool { return slices.Equal(b, got) }) {
			perturbed++
			t.Logf("%s %s: a rounding tie, got %v, which ruptures returns once perturbed (unperturbed %v)", c.name(i), c.Generator, got, c.Expected)
			continue
		}
		otherTie++
		t.Logf("%s %s %+v: a rounding tie, got %v; ruptures %v, perturbed %v", c.name(i), c.Generator, c.Params, got, c.Expected, c.TieBkps)
	}
	if seen != len(generatedExcused) {
		t.Errorf("generatedExcused names %d cases, %d of them in the file", len(generatedExcused), seen)
	}
	t.Logf("parity: %d/%d generated cases identical to ruptures; of the other rounding ties, %d answered as ruptures does once perturbed, %d with another tied answer",
		matched, len(cases), perturbed, otherTie)
}

// checkBkps reports whether bkps is a segmentation of n samples: increasing
// positive ends, the last n, and nBkps+1 of them when nBkps is given.
func checkBkps(bkps []int, n int, nBkps *int) error {
	if len(bkps) == 0 || bkps[len(bkps)-1] != n {
		return fmt.Errorf("does not end at %d", n)
	}
	for i, b := range bkps {
		if b <= 0 || (i > 0 && b <= bkps[i-1]) {
			return fmt.Errorf("end %d at %d is not after the previous one", b, i)
		}
	}
	if nBkps != nil && len(bkps) != *nBkps+1 {
		return fmt.Errorf("%d breakpoints, want %d", len(bkps)-1, *nBkps)
	}
	return nil
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
