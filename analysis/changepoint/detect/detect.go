package detect

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// Params describes one detection the way ruptures' fit_predict is called;
// JSON names follow ruptures' parameter names. Give exactly one of Pen,
// NBkps and Epsilon.
type Params struct {
	// Method is pelt, binseg, bottomup, window, dynp or kernelcpd.
	Method string `json:"method"`
	// Cost is the cost (or, for kernelcpd, the kernel: linear, rbf, cosine).
	Cost string `json:"cost"`
	// Pen is the penalty per breakpoint.
	Pen *float64 `json:"pen,omitempty"`
	// NBkps is the number of breakpoints to find.
	NBkps *int `json:"n_bkps,omitempty"`
	// Epsilon is the budget on the total cost.
	Epsilon *float64 `json:"epsilon,omitempty"`
	// MinSize is the minimum segment length; 0 selects 2.
	MinSize int `json:"min_size,omitempty"`
	// Jump is the grid step of candidate breakpoints; 0 selects 5 (1 for
	// kernelcpd, which ignores it as ruptures does).
	Jump int `json:"jump,omitempty"`
	// Width is the window length of the window method; 0 selects 100.
	Width int `json:"width,omitempty"`
	// CostParams holds gamma, order and metric.
	CostParams
}

// Stop returns the stopping rule p selects.
func (p Params) Stop() (Stop, error) {
	var stops []Stop
	if p.Pen != nil {
		stops = append(stops, Penalty(*p.Pen))
	}
	if p.NBkps != nil {
		stops = append(stops, Count(*p.NBkps))
	}
	if p.Epsilon != nil {
		stops = append(stops, Epsilon(*p.Epsilon))
	}
	if len(stops) != 1 {
		return Stop{}, fmt.Errorf("%w: give exactly one of pen, n_bkps and epsilon (got %d)", ErrBadParameter, len(stops))
	}
	return stops[0], nil
}

var methodNames = []string{"binseg", "bottomup", "dynp", "kernelcpd", "pelt", "window"}

// MethodNames lists the implemented search methods, sorted.
func MethodNames() []string { return append([]string(nil), methodNames...) }

// NewMethod builds the search method p describes, with its cost.
func NewMethod(p Params) (Method, error) {
	name := strings.ToLower(p.Method)
	minSize, jump, width := p.MinSize, p.Jump, p.Width
	if minSize == 0 {
		minSize = 2
	}
	if jump == 0 {
		jump = 5
	}
	if width == 0 {
		width = 100
	}
	if name == "kernelcpd" {
		return NewKernelCPD(strings.ToLower(p.Cost), p.Gamma, minSize)
	}
	if sort.SearchStrings(methodNames, name) == len(methodNames) || methodNames[sort.SearchStrings(methodNames, name)] != name {
		return nil, fmt.Errorf("%w: unknown method %q (want one of %s)", ErrBadParameter, p.Method, strings.Join(methodNames, ", "))
	}
	cost, err := NewCost(p.Cost, p.CostParams)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadParameter, err)
	}
	switch name {
	case "pelt":
		return NewPelt(cost, minSize, jump)
	case "binseg":
		return NewBinseg(cost, minSize, jump)
	case "bottomup":
		return NewBottomUp(cost, minSize, jump)
	case "dynp":
		return NewDynp(cost, minSize, jump)
	default:
		return NewWindow(cost, width, minSize, jump)
	}
}

// Detect runs the detection p describes on s and returns the breakpoints:
// sorted end indices of the segments, the last equal to s.Len(). It is the
// one call an API handler needs.
func Detect(ctx context.Context, s *Signal, p Params) ([]int, error) {
	stop, err := p.Stop()
	if err != nil {
		return nil, err
	}
	m, err := NewMethod(p)
	if err != nil {
		return nil, err
	}
	return m.Segment(ctx, s, stop)
}
