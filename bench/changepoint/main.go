// Command changepoint-bench times Gaffer's analysis/changepoint on every
// case of the ruptures reference file and compares with the seconds
// ruptures took on the same case (recorded in the file).
//
//	go run ./bench/changepoint [-cases ../shared/testdata/changepoint/ruptures_cases.json] [-reps 20] [-stat median|min]
//	    [-clock wall|cpu] [-method M] [-cost C] [-v] [-cpuprofile FILE]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"text/tabwriter"

	"github.com/gaffer-sre/gaffer/analysis/changepoint"
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
	Signal          [][]float64 `json:"signal"`
}

func main() {
	path := flag.String("cases", "../shared/testdata/changepoint/ruptures_cases.json", "reference cases")
	reps := flag.Int("reps", 20, "runs per case")
	stat := flag.String("stat", "median", "time kept per case: median or min of the runs")
	clock := flag.String("clock", "wall", "wall time, or cpu: the process's CPU time (search and garbage collector), which leaves out the time other processes hold the CPU on a shared machine (Linux)")
	verbose := flag.Bool("v", false, "print every case to standard error")
	onlyMethod := flag.String("method", "", "run only the cases of this method")
	onlyCost := flag.String("cost", "", "run only the cases of this cost")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the timed runs to this file")
	flag.Parse()
	if *stat != "median" && *stat != "min" {
		fmt.Fprintf(os.Stderr, "-stat must be median or min, not %q\n", *stat)
		os.Exit(2)
	}
	runtime.GOMAXPROCS(1)
	now := wallSeconds
	switch *clock {
	case "wall":
	case "cpu":
		if _, err := processCPUSeconds(); err != nil {
			fmt.Fprintln(os.Stderr, "-clock cpu:", err)
			os.Exit(2)
		}
		now = func() float64 { s, _ := processCPUSeconds(); return s }
	default:
		fmt.Fprintf(os.Stderr, "-clock must be wall or cpu, not %q\n", *clock)
		os.Exit(2)
	}
	if *cpuProfile != "" {
		pf, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		if err := pprof.StartCPUProfile(pf); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	raw, err := os.ReadFile(*path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var f struct{ Cases []benchCase }
	if err := json.Unmarshal(raw, &f); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	type agg struct {
		ratios           []float64
		gaffer, ruptures float64
	}
	byMethod := map[string]*agg{}
	var all []float64
	for i, c := range f.Cases {
		if (*onlyMethod != "" && c.Method != *onlyMethod) || (*onlyCost != "" && c.Cost != *onlyCost) {
			continue
		}
		sig, err := changepoint.NewSignal(c.Signal)
		if err != nil {
			fmt.Fprintln(os.Stderr, i, err)
			os.Exit(1)
		}
		p := changepoint.Params{Method: c.Method, Cost: c.Cost, Pen: c.Params.Pen, NBkps: c.Params.NBkps,
			Epsilon: c.Params.Epsilon, MinSize: c.Params.MinSize, Jump: c.Params.Jump, Width: c.Params.Width,
			CostParams: changepoint.CostParams{Gamma: c.Params.Gamma, Order: c.Params.Order}}
		times := make([]float64, *reps)
		for r := range times {
			start := now()
			if _, err := changepoint.Detect(context.Background(), sig, p); err != nil {
				fmt.Fprintln(os.Stderr, i, err)
				os.Exit(1)
			}
			times[r] = now() - start
		}
		sort.Float64s(times)
		g := times[len(times)/2]
		if *stat == "min" {
			g = times[0]
		}
		a := byMethod[c.Method]
		if a == nil {
			a = &agg{}
			byMethod[c.Method] = a
		}
		a.gaffer += g
		a.ruptures += c.RupturesSeconds
		if *verbose {
			fmt.Fprintf(os.Stderr, "%3d %-9s %-11s n=%-3d d=%d %+v ruptures %.4fs gaffer %.6fs (%.0fx)\n", i, c.Method, c.Cost,
				sig.Len(), sig.Dims(), c.Params.Jump, c.RupturesSeconds, g, c.RupturesSeconds/g)
		}
		if c.RupturesSeconds > 0 {
			ratio := c.RupturesSeconds / g
			a.ratios = append(a.ratios, ratio)
			all = append(all, ratio)
		}
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "method\tcases\truptures total s\tgaffer total s\ttotal speed-up\tmedian per-case\tmin per-case")
	names := make([]string, 0, len(byMethod))
	for k := range byMethod {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		a := byMethod[k]
		sort.Float64s(a.ratios)
		fmt.Fprintf(tw, "%s\t%d\t%.4f\t%.6f\t%.0fx\t%.0fx\t%.1fx\n", k, len(a.ratios), a.ruptures, a.gaffer,
			a.ruptures/a.gaffer, a.ratios[len(a.ratios)/2], a.ratios[0])
	}
	sort.Float64s(all)
	fmt.Fprintf(tw, "all\t%d\t\t\t\t%.0fx\t%.1fx\n", len(all), all[len(all)/2], all[0])
	tw.Flush()
}
