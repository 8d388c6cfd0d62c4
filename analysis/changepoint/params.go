package changepoint

import (
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gaffer-sre/gaffer/analysis/changepoint/detect"
)

// kernels are the costs KernelCPD accepts.
var kernels = []string{"cosine", "linear", "rbf"}

// paramsFromValues reads detection parameters from query or form values
// named as changepoint.Params's JSON fields; empty values are left unset.
func paramsFromValues(v url.Values) (detect.Params, error) {
	p := detect.Params{Method: strings.TrimSpace(v.Get("method")), Cost: strings.TrimSpace(v.Get("cost"))}
	floats := map[string]**float64{"pen": &p.Pen, "epsilon": &p.Epsilon}
	for name, dst := range floats {
		s := strings.TrimSpace(v.Get(name))
		if s == "" {
			continue
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return p, fmt.Errorf("%s: want a number, got %q", name, s)
		}
		*dst = &f
	}
	ints := map[string]*int{"min_size": &p.MinSize, "jump": &p.Jump, "width": &p.Width, "order": &p.Order}
	for name, dst := range ints {
		s := strings.TrimSpace(v.Get(name))
		if s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			return p, fmt.Errorf("%s: want an integer, got %q", name, s)
		}
		*dst = n
	}
	if s := strings.TrimSpace(v.Get("n_bkps")); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return p, fmt.Errorf("n_bkps: want an integer, got %q", s)
		}
		p.NBkps = &n
	}
	if s := strings.TrimSpace(v.Get("gamma")); s != "" {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return p, fmt.Errorf("gamma: want a number, got %q", s)
		}
		p.Gamma = f
	}
	return p, nil
}

// checkParams validates what the library would reject with a less direct
// message, naming the field.
func checkParams(p detect.Params) error {
	method := strings.ToLower(p.Method)
	if method == "" {
		return fmt.Errorf("method: required (one of %s)", strings.Join(detect.MethodNames(), ", "))
	}
	if !slices.Contains(detect.MethodNames(), method) {
		return fmt.Errorf("method: unknown method %q (want one of %s)", p.Method, strings.Join(detect.MethodNames(), ", "))
	}
	costs := detect.CostNames()
	if method == "kernelcpd" {
		costs = kernels
	}
	if p.Cost == "" {
		return fmt.Errorf("cost: required (one of %s)", strings.Join(costs, ", "))
	}
	if !slices.Contains(costs, strings.ToLower(p.Cost)) {
		return fmt.Errorf("cost: %q is not a cost of %s (want one of %s)", p.Cost, method, strings.Join(costs, ", "))
	}
	for _, f := range []struct {
		name string
		v    *float64
	}{{"pen", p.Pen}, {"epsilon", p.Epsilon}} {
		if f.v != nil && (math.IsNaN(*f.v) || math.IsInf(*f.v, 0) || *f.v < 0) {
			return fmt.Errorf("%s: must be a finite number >= 0, got %v", f.name, *f.v)
		}
	}
	if p.NBkps != nil && *p.NBkps < 0 {
		return fmt.Errorf("n_bkps: must be >= 0, got %d", *p.NBkps)
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"min_size", p.MinSize}, {"jump", p.Jump}, {"width", p.Width}, {"order", p.Order}} {
		if f.v < 0 {
			return fmt.Errorf("%s: must be >= 1, got %d", f.name, f.v)
		}
	}
	if math.IsNaN(p.Gamma) || math.IsInf(p.Gamma, 0) || p.Gamma < 0 {
		return fmt.Errorf("gamma: must be a finite number > 0, got %v", p.Gamma)
	}
	_, err := p.Stop()
	return err
}
