package graph

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gaffer-sre/gaffer/telemetry/atlas/chart"
	"github.com/gaffer-sre/gaffer/telemetry/atlas/stack"
)

// Line is one line of an evaluated graph with its presentation.
type Line struct {
	Legend string
	Tags   map[string]string
	Values []float64
	Style  *stack.StyleExpr
	Offset time.Duration
}

// Lines flattens a result in drawing order.
func Lines(res *stack.Result) []Line {
	var out []Line
	for _, e := range res.Exprs {
		for _, l := range e.Lines {
			out = append(out, Line{Legend: e.Style.Legend(l), Tags: l.Tags, Values: l.Values, Style: e.Style, Offset: e.Style.Offset()})
		}
	}
	return out
}

// Write writes an evaluated graph in p.Format.
func Write(w io.Writer, p *Params, res *stack.Result) error {
	switch p.Format {
	case "csv", "txt":
		return writeTable(w, p, res)
	case "json", "std.json":
		return writeJSON(w, res, p.Format == "std.json")
	case "stats.json":
		return writeStats(w, res)
	}
	return Chart(p, res).WritePNG(w)
}

// Chart turns an evaluated graph into a chart.
func Chart(p *Params, res *stack.Result) *chart.Graph {
	g := &chart.Graph{Title: p.Title, Width: p.Width, Height: p.Height, Start: res.Start - res.Step, End: res.End - res.Step,
		Step: res.Step, Zones: p.Zones, NoLegend: p.NoLegend, NoLegendStats: p.NoLegendStats, OnlyGraph: p.OnlyGraph,
		Warnings: res.Warnings}
	for i := range g.Axes {
		a := p.Axes[i]
		lo, _ := bound(a.Lower)
		hi, _ := bound(a.Upper)
		g.Axes[i] = chart.Axis{Label: a.Label, Lower: lo, Upper: hi, Scale: a.Scale, Stack: p.Stack}
	}
	palette := chart.Palette(p.Palette)
	next := 0
	for i, l := range Lines(res) {
		c := palette[next%len(palette)]
		next++
		if pn := l.Style.Settings["palette"]; pn != "" {
			pal := chart.Palette(pn)
			c = pal[i%len(pal)]
		}
		if col, ok := l.Style.Settings["color"]; ok {
			if parsed, err := stack.ParseColor(col); err == nil {
				c = parsed
			}
		}
		ls := chart.ParseStyle(l.Style.LineStyle())
		if a, ok := l.Style.Settings["alpha"]; ok {
			if n, err := strconv.ParseUint(a, 16, 8); err == nil {
				c.A = uint8(n)
			}
		} else if ls == chart.StyleVSpan && c.A == 255 {
			c.A = 0x40
		}
		axis := l.Style.Axis()
		if p.AxisPerLine {
			axis = min(i, len(g.Axes)-1)
		}
		s := stack.Summarize(l.Values)
		g.Lines = append(g.Lines, chart.Line{Legend: l.Legend, Values: l.Values, Color: c, Style: ls,
			Width: l.Style.LineWidth(), Axis: axis, Stats: chart.Stats{Max: s.Max, Min: s.Min, Avg: s.Avg, Last: s.Last, Count: s.Count}})
	}
	return g
}

func quote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func writeTable(w io.Writer, p *Params, res *stack.Result) error {
	sep := ","
	if p.Format == "txt" {
		sep = "\t"
	}
	bw := bufio.NewWriter(w)
	lines := Lines(res)
	bw.WriteString(quote("timestamp"))
	for _, l := range lines {
		bw.WriteString(sep + quote(l.Legend))
	}
	bw.WriteByte('\n')
	n := int((res.End - res.Start) / res.Step)
	for i := 0; i < n; i++ {
		bw.WriteString(time.UnixMilli(res.Start + int64(i)*res.Step).UTC().Format("2006-01-02T15:04:05Z"))
		for _, l := range lines {
			bw.WriteString(sep)
			v := l.Values[i]
			if math.IsNaN(v) {
				bw.WriteString("NaN")
			} else {
				bw.WriteString(strconv.FormatFloat(v, 'f', 6, 64))
			}
		}
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// jsonNumber prints v as Java does (8.0, NaN), quoting non-finite values
// for std.json.
func jsonNumber(v float64, std bool) string {
	s := stack.String(v)
	if std && (math.IsNaN(v) || math.IsInf(v, 0)) {
		return `"` + s + `"`
	}
	return s
}

func jsonString(s string) string { return strconv.Quote(s) }

func writeMetrics(bw *bufio.Writer, lines []Line) {
	bw.WriteString(`"metrics":[`)
	for i, l := range lines {
		if i > 0 {
			bw.WriteByte(',')
		}
		tags := map[string]string{"atlas.offset": offsetString(l.Offset)}
		for k, v := range l.Tags {
			tags[k] = v
		}
		keys := make([]string, 0, len(tags))
		for k := range tags {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		bw.WriteByte('{')
		for j, k := range keys {
			if j > 0 {
				bw.WriteByte(',')
			}
			bw.WriteString(jsonString(k) + ":" + jsonString(tags[k]))
		}
		bw.WriteByte('}')
	}
	bw.WriteString("]")
}

func offsetString(d time.Duration) string {
	if d == 0 {
		return "0w"
	}
	return stack.String(d)
}

func writeHeader(bw *bufio.Writer, res *stack.Result, lines []Line, withEnd bool) {
	fmt.Fprintf(bw, `{"start":%d,`, res.Start)
	if withEnd {
		fmt.Fprintf(bw, `"end":%d,`, res.End)
	}
	fmt.Fprintf(bw, `"step":%d,"legend":[`, res.Step)
	for i, l := range lines {
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString(jsonString(l.Legend))
	}
	bw.WriteString("],")
	writeMetrics(bw, lines)
}

func writeNotices(bw *bufio.Writer, res *stack.Result) {
	bw.WriteString(`,"notices":[`)
	for i, n := range res.Warnings {
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString(jsonString(n))
	}
	bw.WriteString("]}\n")
}

func writeJSON(w io.Writer, res *stack.Result, std bool) error {
	bw := bufio.NewWriter(w)
	lines := Lines(res)
	writeHeader(bw, res, lines, false)
	bw.WriteString(`,"values":[`)
	n := int((res.End - res.Start) / res.Step)
	for i := 0; i < n; i++ {
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.WriteByte('[')
		for j, l := range lines {
			if j > 0 {
				bw.WriteByte(',')
			}
			bw.WriteString(jsonNumber(l.Values[i], std))
		}
		bw.WriteByte(']')
	}
	bw.WriteString("]")
	writeNotices(bw, res)
	return bw.Flush()
}

func writeStats(w io.Writer, res *stack.Result) error {
	bw := bufio.NewWriter(w)
	lines := Lines(res)
	writeHeader(bw, res, lines, true)
	bw.WriteString(`,"stats":[`)
	for i, l := range lines {
		if i > 0 {
			bw.WriteByte(',')
		}
		s := stack.Summarize(l.Values)
		fmt.Fprintf(bw, `{"count":%d,"avg":%s,"total":%s,"max":%s,"min":%s,"last":%s}`, s.Count,
			jsonNumber(s.Avg, false), jsonNumber(s.Total, false), jsonNumber(s.Max, false), jsonNumber(s.Min, false), jsonNumber(s.Last, false))
	}
	bw.WriteString("]")
	writeNotices(bw, res)
	return bw.Flush()
}
