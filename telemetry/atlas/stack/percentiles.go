package stack

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/gaffer-sre/gaffer/telemetry/spectator"
)

// PercentileKey is the tag holding a percentile bucket: "T" (timers, in
// nanoseconds) or "D" (distribution summaries) and the bucket index in
// four hex digits, as Spectator's percentile meters publish it.
const PercentileKey = "percentile"

// Percentiles estimates percentiles per step from Spectator's percentile
// buckets (:percentiles).
type Percentiles struct {
	Expr *GroupBy // grouped by PercentileKey first
	Pcts []float64
}

func newPercentiles(d DataExpr, pcts []float64) (*Percentiles, error) {
	var gb *GroupBy
	switch v := d.(type) {
	case *Aggregate:
		gb = &GroupBy{AF: &Aggregate{Kind: AggSum, Q: v.Q, CF: CFAvg, Off: v.Off}, Keys: []string{PercentileKey}}
	case *GroupBy:
		gb = &GroupBy{AF: &Aggregate{Kind: AggSum, Q: v.AF.Q, CF: CFAvg, Off: v.AF.Off},
			Keys: append([]string{PercentileKey}, v.Keys...)}
	default:
		return nil, fmt.Errorf(":percentiles can only be used with :sum and :by")
	}
	for _, p := range pcts {
		if !(p >= 0 && p <= 100) {
			return nil, fmt.Errorf("invalid percentile %s, value must be 0.0 <= p <= 100.0", formatDouble(p))
		}
	}
	ps := append([]float64(nil), pcts...)
	sort.Float64s(ps)
	uniq := ps[:0]
	for i, p := range ps {
		if i == 0 || p != ps[i-1] {
			uniq = append(uniq, p)
		}
	}
	return &Percentiles{Expr: gb, Pcts: uniq}, nil
}

func (e *Percentiles) evalKeys() []string { return e.Expr.Keys[1:] }

func (e *Percentiles) appendTo(b *strings.Builder) {
	if ks := e.evalKeys(); len(ks) > 0 {
		appendItems(b, e.Expr.AF.Q, ks, word(":by"))
	} else {
		appendItems(b, e.Expr.AF.Q)
	}
	b.WriteString(",(")
	for _, p := range e.Pcts {
		b.WriteString("," + formatDouble(p))
	}
	b.WriteString(",),:percentiles")
	appendOffset(b, e.Expr.AF.Off)
}
func (e *Percentiles) String() string          { return exprString(e) }
func (e *Percentiles) DataExprs() []DataExpr   { return []DataExpr{e.Expr} }
func (e *Percentiles) IsGrouped() bool         { return true }
func (e *Percentiles) FinalGrouping() []string { return e.Expr.Keys }
func (e *Percentiles) mapChildren(f func(Expr) Expr) Expr {
	g, ok := f(e.Expr).(*GroupBy)
	if !ok {
		return e
	}
	return &Percentiles{Expr: g, Pcts: e.Pcts}
}

func (e *Percentiles) Eval(ctx *EvalContext, d DataMap) ([]*TimeSeries, error) {
	inner, err := e.Expr.Eval(ctx, d)
	if err != nil || len(inner) == 0 {
		return inner, err
	}
	keys := e.evalKeys()
	if len(keys) == 0 {
		return e.estimate(ctx, e.Expr.AF.Q.labelString(), inner)
	}
	groups := map[string][]*TimeSeries{}
	var order []string
	for _, t := range inner {
		k, _ := keyString(keys, t.Tags)
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], t)
	}
	sort.Strings(order)
	var out []*TimeSeries
	for _, k := range order {
		rs, err := e.estimate(ctx, k, groups[k])
		if err != nil {
			return nil, err
		}
		out = append(out, rs...)
	}
	return out, nil
}

func (e *Percentiles) estimate(ctx *EvalContext, base string, data []*TimeSeries) ([]*TimeSeries, error) {
	byBucket := map[int]*TimeSeries{}
	timer := false
	for _, t := range data {
		p, ok := t.Tags[PercentileKey]
		if !ok || len(p) < 2 {
			continue
		}
		idx, err := strconv.ParseInt(p[1:], 16, 32)
		if err != nil || idx < 0 || int(idx) >= spectator.BucketCount() {
			return nil, fmt.Errorf("invalid percentile encoding: %q", p)
		}
		if _, dup := byBucket[int(idx)]; dup {
			return nil, fmt.Errorf("invalid percentile encoding: bucket %q appears twice", p)
		}
		byBucket[int(idx)] = t
		timer = p[0] == 'T'
	}
	if len(byBucket) == 0 {
		return []*TimeSeries{noData(ctx, nil)}, nil
	}
	n := ctx.Len()
	out := make([][]float64, len(e.Pcts))
	for j := range out {
		out[j] = nans(n)
	}
	counts := make([]float64, spectator.BucketCount())
	results := make([]float64, len(e.Pcts))
	conv := 1.0
	if timer {
		conv = 1e-9
	}
	for i := 0; i < n; i++ {
		any := false
		for idx, t := range byBucket {
			v := t.Values[i]
			if math.IsNaN(v) || math.IsInf(v, 0) {
				v = 0
			}
			if v > 0 {
				any = true
			}
			counts[idx] = v
		}
		if !any {
			continue
		}
		spectator.Percentiles(counts, e.Pcts, results)
		for j, r := range results {
			out[j][i] = r * conv
		}
	}
	var first map[string]string
	for _, t := range data {
		first = t.Tags
		break
	}
	lines := make([]*TimeSeries, len(e.Pcts))
	for j, p := range e.Pcts {
		ps := formatDouble(p)
		switch {
		case p < 10:
			ps = "  " + ps
		case p < 100:
			ps = " " + ps
		}
		tags := copyTags(first)
		tags[PercentileKey] = ps
		lines[j] = &TimeSeries{Tags: tags, Label: "percentile(" + base + ", " + ps + ")", Values: out[j]}
	}
	return lines, nil
}

func bucketIndex(v float64) int {
	if v >= math.MaxInt64 {
		return spectator.BucketCount() - 1
	}
	return spectator.BucketIndex(int64(v))
}
