// Package notebook is Gaffer's notebook system: the seed's Orchestration
// and Notebooks teams' parameterised notebook runs, which Netflix built on
// papermill and scrapbook. It runs notebooks on real Jupyter kernels with
// papermill's semantics (package papermill over package jupyter, the
// Jupyter messaging protocol in Go), keeps a warm pool of kernels per
// kernel spec (package kernelpool), and reads back glued values as named
// results (package scrapbook), which workflow steps of type notebook pass
// on as their outputs.
//
// The system stores notebooks with their versions, runs them on workers
// keeping every run with its parameters, scraps and output, publishes a
// read-only rendering (package render, HTML sanitised), installs kernel
// specs, and runs a notebook as a runbook: a cell tagged approval waits
// for a second person. `gaffer notebook run` runs a notebook locally, as
// papermill's command does.
//
// Anchors: papermill and nbclient (nbclient runs a 21-cell notebook in
// 1.8 s, `jupyter nbconvert --execute` in 2.4–6.3 s). The user guide is
// docs/notebooks.md, the comparison program bench/notebook, and the
// figures are in docs/benchmarks.md, "Notebooks".
package notebook
