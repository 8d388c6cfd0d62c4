// Command changepoint-bench times Gaffer's analysis/changepoint on every
// case of the ruptures reference file and compares with the seconds
// ruptures took on the same case (recorded in the file), by method and by
// cost.
//
//	go run ./bench/changepoint [-cases ../shared/testdata/changepoint/ruptures_cases.json] [-reps 20] [-warmup 1]
//	    [-stat median|min] [-clock wall|cpu] [-method M] [-cost C] [-v] [-markdown] [-cpuprofile FILE]
//
// Each case first runs -warmup times untimed, after a garbage
// collection: the first detections in a fresh process pay for its heap's
// first pages, empty buffer pools and cold caches (up to 40% more at a
// few hundred samples), which a long-running service pays once.
//
// bench/changepoint/ruptures_side.py writes such a file for the sizes of
// docs/benchmarks.md, timing ruptures on this machine.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"

	"github.com/gaffer-sre/gaffer/analysis/changepoint/detect"
)

type benchCase struct {
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
	RupturesSeconds float64     `json:"ruptures_seconds"`
	Expected        []int       `json:"expected_bkps"`
	Signal          [][]float64 `json:"signal"`
}

// options are the command's flags.
type options struct {
	path, stat, clock, method, cost, cpuProfile string
	reps, warmup                                int
	verbose, markdown                           bool
}

func main() {
	var o options
	flag.StringVar(&o.path, "cases", "../shared/testdata/changepoint/ruptures_cases.json", "reference cases")
	flag.IntVar(&o.reps, "reps", 20, "runs per case")
	flag.IntVar(&o.warmup, "warmup", 1, "untimed runs per case before the timed ones")
	flag.StringVar(&o.stat, "stat", "median", "time kept per case: median or min of the runs")
	flag.StringVar(&o.clock, "clock", "wall", "wall time, or cpu: the process's CPU time (search and garbage collector), "+
		"which leaves out the time other processes hold the CPU on a shared machine (Linux)")
	flag.BoolVar(&o.verbose, "v", false, "print every case to standard error")
	flag.BoolVar(&o.markdown, "markdown", false, "print every case as a Markdown table row (method, cost, stop, n, ruptures, Gaffer, ratio, same answer)")
	flag.StringVar(&o.method, "method", "", "run only the cases of this method")
	flag.StringVar(&o.cost, "cost", "", "run only the cases of this cost")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the timed runs to this file")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "changepoint-bench:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	if o.stat != "median" && o.stat != "min" {
		return fmt.Errorf("-stat must be median or min, not %q", o.stat)
	}
	runtime.GOMAXPROCS(1)
	now := wallSeconds
	switch o.clock {
	case "wall":
	case "cpu":
		if _, err := processCPUSeconds(); err != nil {
			return fmt.Errorf("-clock cpu: %w", err)
		}
		now = func() float64 { s, _ := processCPUSeconds(); return s }
	default:
		return fmt.Errorf("-clock must be wall or cpu, not %q", o.clock)
	}
	raw, err := os.ReadFile(o.path)
	if err != nil {
		return err
	}
	var f struct{ Cases []benchCase }
	if err := json.Unmarshal(raw, &f); err != nil {
		return fmt.Errorf("%s: %w", o.path, err)
	}
	if o.cpuProfile != "" {
		pf, err := os.Create(o.cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(pf); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	byMethod, byCost := newTable("method"), newTable("cost")
	for i, c := range f.Cases {
		if (o.method != "" && c.Method != o.method) || (o.cost != "" && c.Cost != o.cost) {
			continue
		}
		g, bkps, err := timeCase(c, o, now)
		if err != nil {
			return fmt.Errorf("case %d: %w", i, err)
		}
		same := "yes"
		if !slices.Equal(bkps, c.Expected) {
			same = "no"
		}
		if o.markdown {
			stop := "pen"
			if c.Params.NBkps != nil {
				stop = "n_bkps"
			} else if c.Params.Epsilon != nil {
				stop = "epsilon"
			}
			fmt.Printf("| %s | %s | %s | %d | %s | %s | %.3gx | %s |\n", c.Method, c.Cost, stop, len(c.Signal),
				seconds(c.RupturesSeconds), seconds(g), c.RupturesSeconds/g, same)
		}
		byMethod.add(c.Method, c.RupturesSeconds, g)
		cost := c.Cost
		if c.Method == "kernelcpd" {
			cost = "kernelcpd " + cost // a kernel of ruptures' C code, not a cost
		}
		byCost.add(cost, c.RupturesSeconds, g)
		if o.verbose {
			fmt.Fprintf(os.Stderr, "%3d %-9s %-11s n=%-3d d=%d %+v ruptures %.4fs gaffer %.6fs (%.0fx) same answer: %s\n", i, c.Method, c.Cost,
				len(c.Signal), len(c.Signal[0]), c.Params.Jump, c.RupturesSeconds, g, c.RupturesSeconds/g, same)
		}
	}
	if o.markdown {
		return nil
	}
	byMethod.print(os.Stdout, true)
	fmt.Println()
	byCost.print(os.Stdout, false)
	return nil
}

// timeCase returns the time of one detection of c (the median or minimum
// of o.reps runs) and its breakpoints.
func timeCase(c benchCase, o options, now func() float64) (float64, []int, error) {
	sig, err := detect.NewSignal(c.Signal)
	if err != nil {
		return 0, nil, err
	}
	p := detect.Params{Method: c.Method, Cost: c.Cost, Pen: c.Params.Pen, NBkps: c.Params.NBkps,
		Epsilon: c.Params.Epsilon, MinSize: c.Params.MinSize, Jump: c.Params.Jump, Width: c.Params.Width,
		CostParams: detect.CostParams{Gamma: c.Params.Gamma, Order: c.Params.Order}}
	for range o.warmup {
		if _, err := detect.Detect(context.Background(), sig, p); err != nil {
			return 0, nil, err
		}
	}
	runtime.GC()
	times := make([]float64, o.reps)
	var bkps []int
	for r := range times {
		start := now()
		if bkps, err = detect.Detect(context.Background(), sig, p); err != nil {
			return 0, nil, err
		}
		times[r] = now() - start
	}
	slices.Sort(times)
	if o.stat == "min" {
		return times[0], bkps, nil
	}
	return times[len(times)/2], bkps, nil
}

// seconds formats a duration in seconds to three significant digits in
// s, ms or µs.
func seconds(v float64) string {
	switch {
	case v >= 1:
		return fmt.Sprintf("%.3g s", v)
	case v >= 1e-3:
		return fmt.Sprintf("%.3g ms", v*1e3)
	default:
		return fmt.Sprintf("%.3g µs", v*1e6)
	}
}
