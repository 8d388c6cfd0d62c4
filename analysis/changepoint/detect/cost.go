package detect

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Cost is a segment cost function: the approximation error of a model
// fitted on signal[start:end]. Implement it to plug a custom cost into any
// search method. Fit is called once per signal before Error; a fitted Cost
// is used by one search at a time.
type Cost interface {
	// Name is the cost's ruptures model name ("l2", "rbf", ...).
	Name() string
	// MinSize is the smallest segment length the cost accepts.
	MinSize() int
	// Fit prepares the cost for signal s (Gram matrices, prefix sums, ...).
	Fit(s *Signal) error
	// Error returns the cost of samples [start, end), end-start >= MinSize.
	Error(start, end int) float64
}

// CostParams holds the parameters some costs accept. Zero values select
// ruptures' defaults.
type CostParams struct {
	// Gamma is the rbf kernel bandwidth; 0 selects the median heuristic.
	Gamma float64 `json:"gamma,omitempty"`
	// Order is the autoregressive order of the ar cost; 0 selects 4.
	Order int `json:"order,omitempty"`
	// Metric is the PSD matrix of the mahalanobis cost (d x d); nil selects
	// the inverse covariance of the whole signal.
	Metric [][]float64 `json:"metric,omitempty"`
	// NoSmallDiag disables the 1e-6 diagonal the normal cost adds to each
	// covariance matrix (ruptures' add_small_diag=False).
	NoSmallDiag bool `json:"no_small_diag,omitempty"`
}

// ErrUnknownCost reports a cost name that is not implemented.
var ErrUnknownCost = errors.New("unknown cost")

var costConstructors = map[string]func(CostParams) Cost{
	"l1":          func(CostParams) Cost { return &CostL1{} },
	"l2":          func(CostParams) Cost { return &CostL2{} },
	"normal":      func(p CostParams) Cost { return &CostNormal{NoSmallDiag: p.NoSmallDiag} },
	"rbf":         func(p CostParams) Cost { return &CostRBF{Gamma: p.Gamma} },
	"cosine":      func(CostParams) Cost { return &CostCosine{} },
	"linear":      func(CostParams) Cost { return &CostLinear{} },
	"clinear":     func(CostParams) Cost { return &CostCLinear{} },
	"rank":        func(CostParams) Cost { return &CostRank{} },
	"ar":          func(p CostParams) Cost { return &CostAR{Order: p.Order} },
	"mahalanobis": func(p CostParams) Cost { return &CostMahalanobis{Metric: p.Metric} },
}

// CostNames lists the implemented cost names, sorted.
func CostNames() []string {
	names := make([]string, 0, len(costConstructors))
	for k := range costConstructors {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// NewCost returns the cost named name (a ruptures model name) configured
// with p.
func NewCost(name string, p CostParams) (Cost, error) {
	c, ok := costConstructors[strings.ToLower(name)]
	if !ok {
		return nil, fmt.Errorf("%w %q (want one of %s)", ErrUnknownCost, name, strings.Join(CostNames(), ", "))
	}
	if p.Gamma < 0 {
		return nil, fmt.Errorf("gamma must be positive, got %v", p.Gamma)
	}
	if p.Order < 0 {
		return nil, fmt.Errorf("order must be positive, got %d", p.Order)
	}
	return c(p), nil
}

// SumOfCosts returns the total cost of the segmentation bkps (end indices,
// the last equal to the signal length), summed left to right like ruptures.
func SumOfCosts(c Cost, bkps []int) float64 {
	s, start := 0.0, 0
	for _, e := range bkps {
		s += c.Error(start, e)
		start = e
	}
	return s
}
