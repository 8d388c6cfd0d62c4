package plan

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// DiffLine is one line of a plan's preview: Op is " " for context, "-"
// for what changes and "+" for what it becomes.
type DiffLine struct {
	Op   string `json:"op"`
	Text string `json:"text"`
}

// Diff previews the plan as a diff of steering weights, region loads and
// cluster sizes; unchanged regions and clusters are left out.
func (p *Plan) Diff() []DiffLine {
	var out []DiffLine
	add := func(op, format string, args ...any) {
		out = append(out, DiffLine{Op: op, Text: fmt.Sprintf(format, args...)})
	}
	if p.Status == Infeasible {
		add(" ", "infeasible: nothing would change")
		for _, s := range p.Shortfalls {
			who := s.Service
			if who == "" {
				who = "all demand"
			}
			add("-", "%s needs %.4g %s, %.4g available: short by %.4g (%s)", who, s.Needed, s.Unit, s.Available, s.Shortfall, s.Reason)
		}
		return out
	}
	geos := make([]string, 0, len(p.Before))
	for g := range p.Before {
		geos = append(geos, g)
	}
	sort.Strings(geos)
	for _, g := range geos {
		before, after := p.Before[g], p.After[g]
		var minus, plus []string
		for _, r := range unionKeys(before, after) {
			if math.Abs(before[r]-after[r]) > 1e-9 {
				minus = append(minus, fmt.Sprintf("%s %.1f%%", r, before[r]*100))
				plus = append(plus, fmt.Sprintf("%s %.1f%%", r, after[r]*100))
			}
		}
		if len(minus) > 0 {
			add(" ", "steering %s (%.4g/s)", g, p.Demand[g])
			add("-", "  %s", strings.Join(minus, ", "))
			add("+", "  %s", strings.Join(plus, ", "))
		}
	}
	for _, r := range p.Regions {
		if math.Abs(r.Load-r.LoadAfter) > 1e-9 {
			add(" ", "region %s", r.Region)
			add("-", "  load %.4g/s (%.1f%% of demand)", r.Load, r.Share*100)
			add("+", "  load %.4g/s (%.1f%% of demand)", r.LoadAfter, r.ShareAfter*100)
		}
	}
	for _, c := range p.Clusters {
		if !c.Changed() {
			continue
		}
		add(" ", "cluster %s (%s in %s)", c.Cluster, c.Service, c.Region)
		add("-", "  in service %d, dark %d", c.Size, c.Dark)
		add("+", "  in service %d, dark %d (%d ungated, %d launched)", c.Target, c.DarkAfter, c.Ungate, c.Launch)
	}
	return out
}

// DiffText renders Diff as text, one line each.
func (p *Plan) DiffText() string {
	var b strings.Builder
	for _, l := range p.Diff() {
		b.WriteString(l.Op)
		b.WriteString(" ")
		b.WriteString(l.Text)
		b.WriteString("\n")
	}
	return b.String()
}

func unionKeys(a, b map[string]float64) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range []map[string]float64{a, b} {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	sort.Strings(out)
	return out
}
