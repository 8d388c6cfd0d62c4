package rank

import (
	"errors"
	"fmt"
)

// ErrBadInput wraps every error about the target, window or parameters,
// so that API handlers can answer 400.
var ErrBadInput = errors.New("bad correlation input")

// Window locates the anomaly on the grid: indices [Start, End) of the
// target's values. The target's onset is searched from Tolerance steps
// before Start to End: a window drawn when an alert fired often starts
// before the target moved, or after.
type Window struct {
	Start int `json:"start"`
	End   int `json:"end"`
}

// Weights of the five features in the combined score. They need not sum
// to one: the score is divided by their sum.
type Weights struct {
	XCorr       float64 `json:"xcorr"`
	Rank        float64 `json:"rank"`
	ChangePoint float64 `json:"change_point"`
	Shift       float64 `json:"shift"`
	Precedes    float64 `json:"precedes"`
}

// DefaultWeights are the weights docs/correlate.md measured on the
// scenario generators (ablations there): the first four tuned on the
// package's scenarios, precedence on the fleet incidents (seeds 1-100;
// 101-200 held out).
var DefaultWeights = Weights{XCorr: 0.3, Rank: 0.2, ChangePoint: 0.4, Shift: 0.1, Precedes: 1.5}

func (w Weights) sum() float64 { return w.XCorr + w.Rank + w.ChangePoint + w.Shift + w.Precedes }

// Params tune a ranking; zero fields take their defaults.
type Params struct {
	// MaxLag is the lag search of the cross-correlation, ±MaxLag steps
	// (default 10).
	MaxLag int `json:"max_lag,omitempty"`
	// DiffLag is k of the k-step differences the cross-correlation
	// compares (default 1: first differences).
	DiffLag int `json:"diff_lag,omitempty"`
	// Before is the length of the baseline before the onset (default 60
	// steps, as far as the data goes).
	Before int `json:"before,omitempty"`
	// Horizon bounds how many steps after the onset the cross-correlation,
	// the rank correlation and the distribution shift read (default 60):
	// the start of a long anomaly says what moved with it, at a bounded
	// cost.
	Horizon int `json:"horizon,omitempty"`
	// Width is the length of the two windows whose means the change
	// statistic compares on either side of a step (default 12).
	Width int `json:"width,omitempty"`
	// History is how many steps before the onset the change statistic's
	// spread is measured over (default 360, as far as the data goes).
	History int `json:"history,omitempty"`
	// Tolerance is how many steps from the target's onset a candidate's
	// change still co-occurs, and how far before the window's start the
	// onset is searched (default max(MaxLag, 5)).
	Tolerance int `json:"tolerance,omitempty"`
	// Weights of the features; nil selects DefaultWeights.
	Weights *Weights `json:"weights,omitempty"`
}

// Limits of the parameters.
const (
	maxLagLimit = 1000
	minAfter    = 3
	minBefore   = 10
)

// resolved returns p with its defaults filled in, or an error naming the
// bad field.
func (p Params) resolved() (Params, error) {
	if p.MaxLag < 0 || p.MaxLag > maxLagLimit {
		return p, fmt.Errorf("%w: max_lag must be between 0 and %d, got %d", ErrBadInput, maxLagLimit, p.MaxLag)
	}
	if p.MaxLag == 0 {
		p.MaxLag = 10
	}
	if p.DiffLag < 0 || p.DiffLag > 60 {
		return p, fmt.Errorf("%w: diff_lag must be between 1 and 60, got %d", ErrBadInput, p.DiffLag)
	}
	if p.DiffLag == 0 {
		p.DiffLag = 1
	}
	if p.Before < 0 {
		return p, fmt.Errorf("%w: before must not be negative, got %d", ErrBadInput, p.Before)
	}
	if p.Horizon < 0 {
		return p, fmt.Errorf("%w: horizon must not be negative, got %d", ErrBadInput, p.Horizon)
	}
	if p.Horizon == 0 {
		p.Horizon = 60
	}
	p.Horizon = max(p.Horizon, minAfter)
	if p.Width < 0 || p.Width > 1000 {
		return p, fmt.Errorf("%w: width must be between 2 and 1000, got %d", ErrBadInput, p.Width)
	}
	if p.Width == 0 {
		p.Width = 12
	}
	p.Width = max(p.Width, 2)
	if p.History < 0 {
		return p, fmt.Errorf("%w: history must not be negative, got %d", ErrBadInput, p.History)
	}
	if p.History == 0 {
		p.History = 360
	}
	if p.Tolerance < 0 {
		return p, fmt.Errorf("%w: tolerance must not be negative, got %d", ErrBadInput, p.Tolerance)
	}
	if p.Tolerance == 0 {
		p.Tolerance = max(p.MaxLag, 5)
	}
	w := DefaultWeights
	if p.Weights != nil {
		w = *p.Weights
	}
	if w.XCorr < 0 || w.Rank < 0 || w.ChangePoint < 0 || w.Shift < 0 || w.Precedes < 0 || w.sum() <= 0 {
		return p, fmt.Errorf("%w: weights must be non-negative with a positive sum, got %+v", ErrBadInput, w)
	}
	p.Weights = &w
	return p, nil
}
