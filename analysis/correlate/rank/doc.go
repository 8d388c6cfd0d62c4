// Package rank answers "which of these thousands of series moved with
// this one?": given a target series, an anomaly window and candidate
// series on the same time grid, Rank orders the candidates by how they
// moved with the target, with one combined score of five features
// (lagged cross-correlation, rank correlation, change-point
// co-occurrence, distribution shift, precedence: a large change shortly
// before the target's) and Explain gives a per-signal explanation.
//
// The features, the detrending and the measured precision are described
// in docs/correlate.md.
package rank
