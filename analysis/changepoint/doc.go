// Package changepoint is Gaffer's change-point detection library: a Go
// equivalent of the Python library ruptures, with identical breakpoints.
//
// Entry point for API handlers and other systems, one line:
//
//	bkps, err := changepoint.Detect(ctx, signal, changepoint.Params{
//		Method: "pelt", Cost: "l2", Pen: &pen, MinSize: 2, Jump: 5})
//
// where signal comes from NewSignal (rows of samples), NewSeries (a 1-D
// series) or NewSignalFlat. Params mirrors ruptures' arguments and JSON
// names (method, cost, pen | n_bkps | epsilon, min_size, jump, width,
// gamma, order). For finer control build a Method (NewPelt, NewBinseg,
// NewBottomUp, NewWindow, NewDynp, NewKernelCPD) around a Cost (NewCost or
// any type implementing Cost) and call its Segment with Penalty, Count or
// Epsilon. Errors wrap ErrInvalidSignal, ErrBadParameter or
// ErrBadSegmentation so handlers can map them to 400 responses.
//
// What it does for its user: when an alert fires, the CORE team's
// automated analysis asks where each of ~1,000 related signals changed
// regime. This package answers with the search methods of ruptures (Pelt,
// Binseg, BottomUp, Window, Dynp, KernelCPD) and its costs (l1, l2,
// normal, rbf, cosine, linear, clinear, rank, ar, mahalanobis), plus
// evaluation metrics, signal generators, penalty selection, a "no change"
// test and online detection.
//
// Anchors it measures itself against: ruptures (results identical on the
// reference cases in shared/testdata/changepoint; at least 100 times
// faster than its Python methods and no slower than its C KernelCPD).
// docs/changepoint.md describes the design and docs/benchmarks.md the
// figures.
//
// Breakpoints are reported as ruptures does: the sorted end index of every
// segment, the last one equal to the number of samples.
//
// The server's "changepoint" system (package cpservice, in ./service)
// serves this library over HTTP and in the UI.
package changepoint
