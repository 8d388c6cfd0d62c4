package failover

import (
	"fmt"
	"math"
)

// chart lays out a timeline as SVG rows: one bar per step, from its start
// to its end on the execution clock, with a time axis. The page template
// draws it; no script is involved.
type chart struct {
	Width, Height int
	PlotX, PlotW  float64
	AxisY         int
	Rows          []chartRow
	Ticks         []chartTick
	Total         float64
}

type chartRow struct {
	Y, TextY   int
	X, W       float64
	LabelX     float64
	Label      string
	Title      string
	Color      string
	TextX      float64
	Annotation string
}

type chartTick struct {
	X     float64
	Label string
}

var kindColors = map[string]string{"ungate": "#079455", "scale_out": "#dc6803", "verify": "#7a5af8", "shift": "#1f5fbf",
	"flip": "#0e9384", "restore_steering": "#d92d20", "restore_size": "#c11574", "restore_dark": "#475467"}

const (
	chartLabelW = 320
	chartPlotW  = 620
	chartRowH   = 22
)

func newChart(phases []Phase) *chart {
	if len(phases) == 0 {
		return nil
	}
	c := &chart{PlotX: chartLabelW, PlotW: chartPlotW, Width: chartLabelW + chartPlotW + 70}
	for _, p := range phases {
		c.Total = math.Max(c.Total, p.End)
	}
	scale := c.PlotW / math.Max(c.Total, 1)
	for i, p := range phases {
		y := 8 + i*chartRowH
		w := math.Max((p.End-p.Start)*scale, 1.5)
		color := kindColors[p.Phase]
		if color == "" {
			color = "#475467"
		}
		if p.Status == StepFailed {
			color = "#d92d20"
		}
		label := p.Name
		if len(label) > 46 {
			label = label[:45] + "…"
		}
		c.Rows = append(c.Rows, chartRow{Y: y, TextY: y + 14, X: c.PlotX + p.Start*scale, W: w, LabelX: c.PlotX - 8, Label: label, Color: color,
			Title: fmt.Sprintf("%s: %s to %s (%s)", p.Name, clock(p.Start), clock(p.End), p.Status),
			TextX: c.PlotX + p.Start*scale + w + 4, Annotation: clock(p.End - p.Start)})
	}
	c.AxisY = 8 + len(phases)*chartRowH + 4
	c.Height = c.AxisY + 24
	step := tickStep(c.Total)
	for t := 0.0; t <= c.Total+1e-9; t += step {
		c.Ticks = append(c.Ticks, chartTick{X: c.PlotX + t*scale, Label: clock(t)})
	}
	return c
}

func tickStep(total float64) float64 {
	for _, s := range []float64{5, 10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200} {
		if total/s <= 10 {
			return s
		}
	}
	return math.Ceil(total/10/3600) * 3600
}

// clock formats seconds as m:ss (or h:mm:ss).
func clock(sec float64) string {
	s := int(math.Round(sec))
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// format gives page templates their number formats (the shell's
// template functions are fixed); page data embeds it.
type format struct{}

// Pct formats a fraction as a percentage.
func (format) Pct(x float64) string { return fmt.Sprintf("%.1f%%", x*100) }

// Clock formats seconds (a float64 or *float64) as m:ss.
func (format) Clock(v any) string {
	switch x := v.(type) {
	case float64:
		return clock(x)
	case *float64:
		if x != nil {
			return clock(*x)
		}
	}
	return ""
}
