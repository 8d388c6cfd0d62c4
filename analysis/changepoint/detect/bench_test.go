package detect

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"testing"
)

// BenchmarkPeltL2Fleet segments 1,000 signals of 360 points with Pelt/l2
// (ruptures' defaults min_size 2, jump 5): the alert-analysis workload.
func BenchmarkPeltL2Fleet(b *testing.B) {
	sigs := make([]*Signal, 1000)
	for i := range sigs {
		sigs[i], _, _ = PwConstant(360, 1, 3, 1, uint64(i))
	}
	pen := 3 * math.Log(360)
	p := Params{Method: "pelt", Cost: "l2", Pen: &pen}
	ctx := context.Background()
	b.ResetTimer()
	defer reportCPU(b)()
	for range b.N {
		for _, s := range sigs {
			if _, err := Detect(ctx, s, p); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkPeltL2N3000Jump1 is the case ruptures takes about 6.4 s on.
func BenchmarkPeltL2N3000Jump1(b *testing.B) {
	s, _, _ := PwConstant(3000, 1, 5, 1, 1)
	pen := 3 * math.Log(3000)
	p := Params{Method: "pelt", Cost: "l2", Pen: &pen, Jump: 1}
	defer reportCPU(b)()
	for range b.N {
		if _, err := Detect(context.Background(), s, p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRBF100k runs KernelCPD (Pelt) with the rbf kernel on 100,000
// samples and reports the peak heap in use: no n x n matrix is built.
func BenchmarkRBF100k(b *testing.B) {
	s, _, _ := PwConstant(100_000, 1, 99, 1, 1)
	pen := 5.0
	p := Params{Method: "kernelcpd", Cost: "rbf", Pen: &pen, MinSize: 2}
	defer reportCPU(b)()
	for range b.N {
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		bkps, err := Detect(context.Background(), s, p)
		if err != nil {
			b.Fatal(err)
		}
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/(1<<20), "MiB-alloc/op")
		b.ReportMetric(float64(len(bkps)-1), "bkps")
	}
}

// BenchmarkRupturesCases times every method on the reference cases (see
// bench/changepoint for the per-case comparison with ruptures' seconds).
func BenchmarkRupturesCases(b *testing.B) {
	cases := loadCases(b)
	byMethod := map[string][]rupturesCase{}
	for _, c := range cases {
		byMethod[c.Method] = append(byMethod[c.Method], c)
	}
	for _, m := range MethodNames() {
		b.Run(m, func(b *testing.B) {
			sigs := make([]*Signal, len(byMethod[m]))
			for i, c := range byMethod[m] {
				sigs[i], _ = NewSignal(c.Signal)
			}
			b.ResetTimer()
			defer reportCPU(b)()
			for range b.N {
				for i, c := range byMethod[m] {
					if _, err := Detect(context.Background(), sigs[i], c.params()); err != nil {
						b.Fatal(fmt.Errorf("%s: %w", c.name(i), err))
					}
				}
			}
		})
	}
}

// BenchmarkMethodCost runs every search method with the costs the speed
// work targets on one generated signal of 1,000 samples (4 changes, noise
// 1; the cosine cost on 2 dimensions, which it needs to be meaningful),
// with ruptures' defaults: min_size 2, jump 5, width 100.
func BenchmarkMethodCost(b *testing.B) {
	one, _, _ := PwConstant(1000, 1, 4, 1, 1)
	two, _, _ := PwConstant(1000, 2, 4, 1, 1)
	pen, k := 20.0, 4
	for _, m := range []string{"pelt", "binseg", "bottomup", "window", "dynp"} {
		for _, c := range []string{"l1", "l2", "normal", "rbf", "cosine", "ar"} {
			s := one
			if c == "cosine" {
				s = two
			}
			p := Params{Method: m, Cost: c, NBkps: &k}
			if m == "pelt" {
				p = Params{Method: m, Cost: c, Pen: &pen}
			}
			b.Run(m+"/"+c, func(b *testing.B) {
				defer reportCPU(b)()
				for range b.N {
					if _, err := Detect(context.Background(), s, p); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkKernelCPD runs KernelCPD with each kernel, with a penalty and
// with a number of breakpoints, on 3-dimensional signals of 1,000 to
// 10,000 samples (5 changes, noise 1, rbf bandwidth fixed at 0.1 so that
// the median heuristic is not timed), the sizes of issue 18.
func BenchmarkKernelCPD(b *testing.B) {
	for _, n := range []int{1000, 4000, 10000} {
		s, _, _ := PwConstant(n, 3, 5, 1, 1)
		for _, kern := range []string{"rbf", "linear", "cosine"} {
			pen := map[string]float64{"rbf": 2, "linear": 50, "cosine": 2}[kern]
			k := 5
			for _, stop := range []string{"pen", "n_bkps"} {
				p := Params{Method: "kernelcpd", Cost: kern, Pen: &pen, CostParams: CostParams{Gamma: 0.1}}
				if stop == "n_bkps" {
					p.Pen, p.NBkps = nil, &k
				}
				b.Run(fmt.Sprintf("%s/%s/n=%d", kern, stop, n), func(b *testing.B) {
					defer reportCPU(b)()
					for range b.N {
						if _, err := Detect(context.Background(), s, p); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		}
	}
}

// BenchmarkPeltRBF is issue 18's Pelt case: the rbf cost (bandwidth by the
// median heuristic), pen 2, jump 5, on 500, 1,000 and 1,500 samples of 3
// dimensions.
func BenchmarkPeltRBF(b *testing.B) {
	for _, n := range []int{500, 1000, 1500} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			s, _, _ := PwConstant(n, 3, 5, 1, 1)
			pen := 2.0
			p := Params{Method: "pelt", Cost: "rbf", Pen: &pen, Jump: 5}
			defer reportCPU(b)()
			for range b.N {
				if _, err := Detect(context.Background(), s, p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPeltRBFParts times BenchmarkPeltRBF's two parts apart: the
// median heuristic (every pairwise distance) and the search with the
// bandwidth given.
func BenchmarkPeltRBFParts(b *testing.B) {
	for _, n := range []int{500, 1000} {
		s, _, _ := PwConstant(n, 3, 5, 1, 1)
		gamma, err := MedianHeuristicGamma(s)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("median/n=%d", n), func(b *testing.B) {
			defer reportCPU(b)()
			for range b.N {
				if _, err := MedianHeuristicGamma(s); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("search/n=%d", n), func(b *testing.B) {
			defer reportCPU(b)()
			for range b.N {
				p, err := NewPelt(&CostRBF{Gamma: gamma}, 2, 5)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := p.Segment(context.Background(), s, Penalty(2)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
