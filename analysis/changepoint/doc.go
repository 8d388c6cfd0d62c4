// Package changepoint is Gaffer's "changepoint" system: an API to segment
// a signal sent in the request or a stored metric, the "Change points"
// page and `gaffer changepoint`.
//
// It implements the change-point detection of the CORE team's automated
// analysis ("Python at Netflix") and measures itself against ruptures:
// the same breakpoints on ruptures' own outputs, and faster. Detection is
// bounded so that one request cannot hog the server: at most MaxValues
// values per signal, a time budget per detection, and no more concurrent
// detections than CPUs.
//
// Libraries: detect (the algorithms and costs, ruptures' equivalent),
// signalio (reading signals from files), display (plots). User guide:
// docs/changepoint.md; figures: docs/benchmarks.md and bench/changepoint.
package changepoint
