// Command notebook-bench measures parameterised notebook runs: a
// notebook of -cells code cells (a parameters cell, then cells that
// compute and print), run -runs times with a new parameter each time, as
// `gaffer notebook run` runs it (a kernel started for the run) and from a
// warm kernel pool (a started kernel waiting). For comparison it runs the
// same notebook with papermill and `jupyter nbconvert --execute` when
// those are installed, and says so when they are not.
//
//	go run ./bench/notebook [-runs 30] [-cells 21] [-kernel python3]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"time"

	"github.com/gaffer-sre/gaffer/orchestration/notebook/jupyter"
	"github.com/gaffer-sre/gaffer/orchestration/notebook/kernelpool"
	"github.com/gaffer-sre/gaffer/orchestration/notebook/nbformat"
	"github.com/gaffer-sre/gaffer/orchestration/notebook/papermill"
)

func main() {
	runs := flag.Int("runs", 30, "runs per mode")
	cells := flag.Int("cells", 21, "cells in the executed notebook, the injected parameters cell included")
	kernel := flag.String("kernel", "python3", "kernel spec")
	flag.Parse()
	if err := bench(*runs, *cells, *kernel); err != nil {
		fmt.Fprintln(os.Stderr, "notebook-bench:", err)
		os.Exit(1)
	}
}

// sample is a notebook that runs to cells cells once parameterised.
func sample(cells int) *nbformat.Notebook {
	nb := nbformat.New()
	nb.Metadata["kernelspec"] = map[string]any{"name": "python3", "display_name": "Python 3", "language": "python"}
	nb.Cells = append(nb.Cells, &nbformat.Cell{ID: "params", CellType: "code", Source: "x = 0", Metadata: map[string]any{"tags": []any{"parameters"}}})
	for i := 1; i < cells-1; i++ {
		nb.Cells = append(nb.Cells, &nbformat.Cell{ID: fmt.Sprintf("c%d", i), CellType: "code",
			Source: fmt.Sprintf("y%d = [x * k for k in range(%d)]\nprint(sum(y%d))", i, 100*i, i), Metadata: map[string]any{}})
	}
	return nb
}

func bench(runs, cells int, kernel string) error {
	spec, err := jupyter.FindKernelSpec(kernel, jupyter.KernelDirs())
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "notebook-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	in := filepath.Join(dir, "in.ipynb")
	if err := sample(cells).WriteFile(in); err != nil {
		return err
	}
	out := filepath.Join(dir, "out.ipynb")
	ctx := context.Background()
	fmt.Printf("%d runs of a %d-cell parameterised notebook on kernel %s\n", runs, cells, spec.Name)

	cold, err := measure(runs, func(i int) error {
		k, err := jupyter.Start(ctx, spec, jupyter.Options{Dir: dir})
		if err != nil {
			return err
		}
		defer k.Kill()
		return runOn(ctx, k, in, out, i, cells)
	})
	if err != nil {
		return fmt.Errorf("cold runs: %w", err)
	}
	report("gaffer, kernel started per run", cold)

	pool := kernelpool.New(kernelpool.Options{Warm: 2, Kernel: jupyter.Options{Dir: dir}})
	defer pool.Close()
	pool.Warm(spec)
	var warm []time.Duration
	for i := 0; i < runs; i++ {
		for pool.Idle(spec.Name) < 2 { // the pool refills between runs, off the clock
			time.Sleep(5 * time.Millisecond)
		}
		start := time.Now()
		l, err := pool.Get(ctx, spec)
		if err != nil {
			return err
		}
		err = runOn(ctx, l.Kernel, in, out, i, cells)
		warm = append(warm, time.Since(start))
		l.Release()
		if err != nil {
			return fmt.Errorf("warm run %d: %w", i, err)
		}
	}
	report("gaffer, warm kernel pool", warm)

	peers := []struct {
		name string
		argv func(i int) []string
	}{
		{"papermill", func(i int) []string { return []string{"papermill", in, out, "-p", "x", fmt.Sprint(i)} }},
		{"jupyter nbconvert --execute (no parameters)", func(int) []string {
			return []string{"jupyter", "nbconvert", "--to", "notebook", "--execute", "--output", out, in}
		}},
	}
	for _, p := range peers {
		argv := p.argv(0)
		if _, err := exec.LookPath(argv[0]); err != nil {
			fmt.Printf("%-45s not installed (%s not on PATH)\n", p.name, argv[0])
			continue
		}
		took, err := measure(runs, func(i int) error {
			argv := p.argv(i)
			return exec.Command(argv[0], argv[1:]...).Run()
		})
		if err != nil {
			fmt.Printf("%-45s failed: %v\n", p.name, err)
			continue
		}
		report(p.name, took)
	}
	return nil
}

func runOn(ctx context.Context, k *jupyter.Kernel, in, out string, i, cells int) error {
	nb, err := nbformat.ReadFile(in)
	if err != nil {
		return err
	}
	res, err := papermill.Run(ctx, k, nb, papermill.Options{Params: papermill.Params{{Name: "x", Value: int64(i)}}, InputPath: in, OutputPath: out})
	if err != nil {
		return err
	}
	if res.Status != papermill.StatusCompleted || res.Cells != cells {
		return fmt.Errorf("run %d: %s with %d cells: %w", i, res.Status, res.Cells, res.Error)
	}
	return nil
}

func measure(runs int, f func(i int) error) ([]time.Duration, error) {
	var took []time.Duration
	for i := 0; i < runs; i++ {
		start := time.Now()
		if err := f(i); err != nil {
			return nil, err
		}
		took = append(took, time.Since(start))
	}
	return took, nil
}

func report(name string, took []time.Duration) {
	sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
	q := func(p float64) float64 { return float64(took[int(p*float64(len(took)-1))].Microseconds()) / 1000 }
	fmt.Printf("%-45s p50 %7.1f ms  p95 %7.1f ms  max %7.1f ms\n", name, q(0.5), q(0.95), q(1))
}
