// Package graph implements Atlas's graph API on top of the atlas
// evaluator and the chart renderer: it parses the API's parameters
// (q, s, e, tz, step, w, h, l, u, scale, ylabel, palette, stack, title,
// no_legend, no_legend_stats, axis_per_line, only_graph, format) and
// writes the graph as png, csv, txt, json, std.json or stats.json.
package graph

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gaffer-sre/gaffer/telemetry/atlas/stack"
)

// Params are a graph request's parameters.
type Params struct {
	Query         string
	Start, End    string
	Zones         []*time.Location
	Step          time.Duration
	Width, Height int
	Format        string
	Title         string
	Palette       string
	Stack         bool
	NoLegend      bool
	NoLegendStats bool
	AxisPerLine   bool
	OnlyGraph     bool
	// Axes holds l, u, scale and ylabel per axis (l.1, u.1, … for the
	// others).
	Axes [5]AxisParams
}

// AxisParams are one y axis's parameters.
type AxisParams struct {
	Lower, Upper, Scale, Label string
}

// Formats are the output formats and their content types.
var Formats = map[string]string{
	"png": "image/png", "csv": "text/csv; charset=utf-8", "txt": "text/plain; charset=utf-8",
	"json": "application/json", "std.json": "application/json", "stats.json": "application/json",
}

// Limits of the image size.
const (
	MaxWidth  = 4000
	MaxHeight = 2000
)

func boolParam(v url.Values, k string) (bool, error) {
	s := v.Get(k)
	switch strings.ToLower(s) {
	case "", "0", "false":
		return false, nil
	case "1", "true":
		return true, nil
	}
	return false, fmt.Errorf("%s: want 1 or 0, not %q", k, s)
}

// ParseParams reads a graph request's query string. defaultZone is used
// when tz is absent.
func ParseParams(v url.Values, defaultZone *time.Location) (*Params, error) {
	p := &Params{Query: v.Get("q"), Start: v.Get("s"), End: v.Get("e"), Format: v.Get("format"),
		Title: v.Get("title"), Palette: v.Get("palette"), Width: 700, Height: 300}
	if p.Query == "" {
		return nil, fmt.Errorf("q: the expression is missing")
	}
	if p.Start == "" {
		p.Start = "e-3h"
	}
	if p.End == "" {
		p.End = "now"
	}
	if p.Format == "" {
		p.Format = "png"
	}
	if _, ok := Formats[p.Format]; !ok {
		return nil, fmt.Errorf("format: %q is not one of png, csv, txt, json, std.json, stats.json", p.Format)
	}
	for _, tz := range v["tz"] {
		loc, err := time.LoadLocation(tz)
		if err != nil {
			return nil, fmt.Errorf("tz: unknown time zone %q", tz)
		}
		p.Zones = append(p.Zones, loc)
	}
	if len(p.Zones) == 0 {
		if defaultZone == nil {
			defaultZone = time.UTC
		}
		p.Zones = []*time.Location{defaultZone}
	}
	if s := v.Get("step"); s != "" {
		d, err := stack.ParseDuration(s)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("step: %q is not a positive duration such as 1m or PT5M", s)
		}
		p.Step = d
	}
	for _, dim := range []struct {
		k      string
		dst    *int
		maxVal int
	}{{"w", &p.Width, MaxWidth}, {"h", &p.Height, MaxHeight}} {
		if s := v.Get(dim.k); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 10 || n > dim.maxVal {
				return nil, fmt.Errorf("%s: want a number of pixels from 10 to %d, not %q", dim.k, dim.maxVal, s)
			}
			*dim.dst = n
		}
	}
	var err error
	flags := []struct {
		k   string
		dst *bool
	}{{"stack", &p.Stack}, {"no_legend", &p.NoLegend}, {"no_legend_stats", &p.NoLegendStats},
		{"axis_per_line", &p.AxisPerLine}, {"only_graph", &p.OnlyGraph}}
	for _, f := range flags {
		if *f.dst, err = boolParam(v, f.k); err != nil {
			return nil, err
		}
	}
	for i := range p.Axes {
		suffix := ""
		if i > 0 {
			suffix = "." + strconv.Itoa(i)
		}
		a := AxisParams{Lower: v.Get("l" + suffix), Upper: v.Get("u" + suffix), Scale: v.Get("scale" + suffix),
			Label: v.Get("ylabel" + suffix)}
		if i == 0 && a.Lower == "" {
			a.Lower = v.Get("l.0")
		}
		for _, b := range []struct{ k, s string }{{"l", a.Lower}, {"u", a.Upper}} {
			if _, err := bound(b.s); err != nil {
				return nil, fmt.Errorf("%s%s: %w", b.k, suffix, err)
			}
		}
		switch a.Scale {
		case "", "linear", "log", "pow2", "sqrt", "log-linear":
		default:
			return nil, fmt.Errorf("scale%s: want linear, log, pow2 or sqrt, not %q", suffix, a.Scale)
		}
		p.Axes[i] = a
	}
	return p, nil
}

// bound parses an axis bound: a number, or empty / auto-style / auto-data
// for automatic.
func bound(s string) (float64, error) {
	switch s {
	case "", "auto-style", "auto-data":
		return math.NaN(), nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("want a number, auto-style or auto-data, not %q", s)
	}
	return v, nil
}

// Request resolves the time range into an evaluation request.
func (p *Params) Request(now time.Time) (stack.Request, error) {
	s, e, err := stack.ParseTimeRange(p.Start, p.End, p.Zones[0], now)
	if err != nil {
		return stack.Request{}, err
	}
	return stack.Request{Query: p.Query, Start: s, End: e, Step: p.Step, Width: p.Width, Zone: p.Zones[0]}, nil
}
