// Package detect is Gaffer's change-point detection library: a Go
// equivalent of ruptures, with identical breakpoints.
//
//	bkps, err := detect.Detect(ctx, signal, detect.Params{
//		Method: "pelt", Cost: "l2", Pen: &pen, MinSize: 2, Jump: 5})
//
// Params mirrors ruptures' arguments and JSON names. For finer control
// build a Method (NewPelt, NewBinseg, NewBottomUp, NewWindow, NewDynp,
// NewKernelCPD) around a Cost and call its Segment. Breakpoints are the
// sorted end index of every segment, the last equal to the number of
// samples. Errors wrap ErrInvalidSignal, ErrBadParameter or
// ErrBadSegmentation.
//
// The methods, costs and their parity with ruptures are described in
// docs/changepoint.md; the figures are in docs/benchmarks.md.
package detect
