// Package notebook is Gaffer's notebook system: the seed's Orchestration
// and Notebooks teams' parameterised notebook runs, which Netflix built on
// papermill and scrapbook. It runs notebooks on real Jupyter kernels with
// papermill's semantics (package papermill over package jupyter, the
// Jupyter messaging protocol in Go), keeps a warm pool of kernels per
// kernel spec (package kernelpool), and reads back glued values as named
// results (package scrapbook).
//
// `gaffer notebook run` runs a notebook locally, as papermill's command
// does. Anchors: papermill and nbclient (nbclient runs a 21-cell notebook
// in 1.8 s); the user guide is docs/notebooks.md and the comparison
// bench/notebook.
package notebook
