package chart

import (
	"bufio"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"time"
)

// Theme colors, as Atlas's light theme.
var (
	background = color.NRGBA{255, 255, 255, 255}
	textColor  = color.NRGBA{0, 0, 0, 255}
	gridMajor  = color.NRGBA{208, 208, 208, 255}
	frameColor = color.NRGBA{120, 120, 120, 255}
	warnColor  = color.NRGBA{200, 0, 0, 255}
)

const (
	pad      = 5
	tickLen  = 4
	fontSize = 11
)

// axisState is an axis's resolved range and scale.
type axisState struct {
	used   bool
	lo, hi float64
	f, inv scaler
	ticks  []float64
	labels []string
	width  int
	label  string
}

// WritePNG renders the graph and encodes it as PNG.
func (g *Graph) WritePNG(w io.Writer) error {
	img, err := g.Render()
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(bw, img); err != nil {
		return fmt.Errorf("encode png: %w", err)
	}
	return bw.Flush()
}

// Render draws the graph.
func (g *Graph) Render() (*image.RGBA, error) {
	td, err := newTextDrawer(fontSize)
	if err != nil {
		return nil, fmt.Errorf("chart font: %w", err)
	}
	w, h := max(g.Width, 10), max(g.Height, 10)
	zones := g.Zones
	if len(zones) == 0 {
		zones = []*time.Location{time.UTC}
	}
	axes := g.resolveAxes(td, h)
	if g.OnlyGraph {
		img := image.NewRGBA(image.Rect(0, 0, w, h))
		fill(img, img.Bounds(), background)
		g.plot(img, image.Rect(0, 0, w, h), axes)
		return img, nil
	}
	left := pad + axes[0].width
	right := pad
	for i := 1; i < len(axes); i++ {
		if axes[i].used {
			right += axes[i].width
		}
	}
	titleH := 0
	if g.Title != "" {
		titleH = td.height + pad
	}
	top := pad + titleH
	xAxisH := len(zones) * (td.height + 2)
	legendH := g.legendHeight(td)
	W := left + w + right + pad
	H := top + h + tickLen + xAxisH + legendH + pad
	img := image.NewRGBA(image.Rect(0, 0, W, H))
	fill(img, img.Bounds(), background)
	if g.Title != "" {
		td.draw(img, left+(w-td.width(g.Title))/2, pad, g.Title, textColor)
	}
	area := image.Rect(left, top, left+w, top+h)
	g.grid(img, area, axes[firstUsed(axes)], zones[0])
	g.plot(img, area, axes)
	rect(img, area, frameColor)
	// One placer for every axis: a time label never lands on the lowest
	// value label in the corner they share.
	labels := &axisLabels{img: img, td: td, drawn: g.labelDrawn}
	g.yAxes(img, td, area, axes, labels)
	y := area.Max.Y + tickLen
	for _, z := range zones {
		g.timeAxis(img, td, area, y, z, len(zones) > 1, labels)
		y += td.height + 2
	}
	g.legend(img, td, left, y+pad, W-left-pad)
	return img, nil
}

func firstUsed(axes []*axisState) int {
	for i, a := range axes {
		if a.used {
			return i
		}
	}
	return 0
}

// resolveAxes computes each axis's bounds from its lines and settings.
func (g *Graph) resolveAxes(td *textDrawer, h int) []*axisState {
	axes := make([]*axisState, len(g.Axes))
	for i := range axes {
		f, inv := scaleFunc(g.Axes[i].Scale)
		axes[i] = &axisState{lo: math.Inf(1), hi: math.Inf(-1), f: f, inv: inv, label: g.Axes[i].Label}
	}
	axes[0].used = true
	for i := range g.stacked() {
		_ = i
	}
	for _, s := range g.series() {
		a := axes[s.axis]
		a.used = true
		if s.line.Style == StyleVSpan {
			continue
		}
		for j, v := range s.top {
			lo := s.base[j]
			if math.IsNaN(v) {
				continue
			}
			a.lo, a.hi = math.Min(a.lo, math.Min(v, lo)), math.Max(a.hi, math.Max(v, lo))
		}
	}
	for i, a := range axes {
		if math.IsInf(a.lo, 1) {
			a.lo, a.hi = 0, 1
		}
		if l := g.Axes[i].Lower; !math.IsNaN(l) {
			a.lo = l
		}
		if u := g.Axes[i].Upper; !math.IsNaN(u) {
			a.hi = u
		}
		if a.lo >= a.hi {
			if a.lo == 0 {
				a.hi = 1
			} else {
				a.lo, a.hi = a.lo-math.Abs(a.lo)*0.1, a.hi+math.Abs(a.hi)*0.1
			}
		}
		flo, fhi := a.f(a.lo), a.f(a.hi)
		n := max(2, h/40)
		ticks := valueTicks(flo, fhi, n)
		if g.Axes[i].Scale == "log" {
			ticks = nil
			for e := math.Floor(math.Log10(math.Max(1, math.Abs(a.lo)))); e <= math.Ceil(math.Log10(math.Max(1, a.hi))); e++ {
				ticks = append(ticks, a.f(math.Pow(10, e)))
			}
		}
		step := 1.0
		if len(ticks) > 1 {
			step = a.inv(ticks[1]) - a.inv(ticks[0])
		}
		for _, t := range ticks {
			a.ticks = append(a.ticks, t)
			if g.Axes[i].Scale == "log" {
				// Powers of ten: each label is exact with its own prefix.
				step = math.Abs(a.inv(t))
			}
			a.labels = append(a.labels, formatTick(a.inv(t), step))
		}
		for _, l := range a.labels {
			a.width = max(a.width, td.width(l))
		}
		a.width += tickLen + 4
		if a.label != "" {
			a.width += td.height + 2
		}
	}
	return axes
}

// drawn is a line ready to draw: its top and base per datapoint.
type drawn struct {
	line      *Line
	axis      int
	top, base []float64
}

func (g *Graph) stacked() map[int]bool {
	out := map[int]bool{}
	for i := range g.Axes {
		out[i] = g.Axes[i].Stack
	}
	return out
}

// series resolves stacking: a stack line sits on the lines stacked before
// it on the same axis (positive and negative values separately).
func (g *Graph) series() []drawn {
	pos := map[int][]float64{}
	neg := map[int][]float64{}
	out := make([]drawn, 0, len(g.Lines))
	for i := range g.Lines {
		l := &g.Lines[i]
		ax := min(max(l.Axis, 0), len(g.Axes)-1)
		d := drawn{line: l, axis: ax, top: l.Values, base: make([]float64, len(l.Values))}
		if l.Style == StyleStack || (g.Axes[ax].Stack && l.Style == StyleLine) {
			if pos[ax] == nil {
				pos[ax], neg[ax] = make([]float64, len(l.Values)), make([]float64, len(l.Values))
			}
			top := make([]float64, len(l.Values))
			for j, v := range l.Values {
				if j >= len(pos[ax]) {
					break
				}
				switch {
				case math.IsNaN(v):
					top[j], d.base[j] = math.NaN(), pos[ax][j]
				case v >= 0:
					d.base[j] = pos[ax][j]
					pos[ax][j] += v
					top[j] = pos[ax][j]
				default:
					d.base[j] = neg[ax][j]
					neg[ax][j] += v
					top[j] = neg[ax][j]
				}
			}
			d.top = top
			if l.Style == StyleLine {
				l.Style = StyleStack
			}
		}
		out = append(out, d)
	}
	return out
}

func (g *Graph) xOf(area image.Rectangle, t int64) float64 {
	return float64(area.Min.X) + float64(t-g.Start)/float64(g.End-g.Start)*float64(area.Dx())
}

func (a *axisState) yOf(area image.Rectangle, v float64) float64 {
	lo, hi := a.f(a.lo), a.f(a.hi)
	return float64(area.Max.Y) - (a.f(v)-lo)/(hi-lo)*float64(area.Dy())
}

func (g *Graph) grid(img *image.RGBA, area image.Rectangle, a *axisState, zone *time.Location) {
	for _, t := range a.ticks {
		y := int(math.Round(a.yOf(area, a.inv(t))))
		if y > area.Min.Y && y < area.Max.Y {
			dashH(img, area.Min.X, area.Max.X, y, gridMajor)
		}
	}
	ticks, _ := timeTicks(g.Start, g.End, max(2, area.Dx()/80), zone)
	for _, t := range ticks {
		x := int(math.Round(g.xOf(area, t.UnixMilli())))
		if x > area.Min.X && x < area.Max.X {
			dashV(img, x, area.Min.Y, area.Max.Y, gridMajor)
		}
	}
}

// plot draws every line clipped to area. Datapoint i covers the step
// ending at its time, as in Atlas: [t-step, t).
func (g *Graph) plot(img *image.RGBA, area image.Rectangle, axes []*axisState) {
	ss := g.series()
	for _, s := range ss {
		if s.line.Style == StyleHeatmap {
			g.heatmap(img, area, axes, ss)
			break
		}
	}
	// Spans go behind everything, then areas and stacks, then lines.
	for _, s := range ss {
		if s.line.Style != StyleVSpan {
			continue
		}
		for i, v := range s.top {
			if truthy(v) {
				x0, x1 := g.stepX(area, i)
				fillBlend(img, image.Rect(x0, area.Min.Y, x1, area.Max.Y).Intersect(area), s.line.Color)
			}
		}
	}
	for _, s := range ss {
		if s.line.Style == StyleArea || s.line.Style == StyleStack {
			g.drawLine(img, area, axes, s)
		}
	}
	for _, s := range ss {
		if s.line.Style == StyleLine {
			g.drawLine(img, area, axes, s)
		}
	}
}

func (g *Graph) drawLine(img *image.RGBA, area image.Rectangle, axes []*axisState, s drawn) {
	{
		a := axes[s.axis]
		c := s.line.Color
		switch s.line.Style {
		case StyleArea, StyleStack:
			for i, v := range s.top {
				if math.IsNaN(v) {
					continue
				}
				x0, x1 := g.stepX(area, i)
				base := s.base[i]
				if s.line.Style == StyleArea {
					base = math.Max(a.lo, math.Min(0, a.hi))
				}
				y0, y1 := a.yOf(area, v), a.yOf(area, base)
				if y0 > y1 {
					y0, y1 = y1, y0
				}
				fillBlend(img, image.Rect(x0, int(math.Round(y0)), x1, int(math.Round(y1))).Intersect(area), c)
			}
		case StyleLine:
			g.polyline(img, area, a, s.top, c, s.line.Width)
		}
	}
}

// stepX is the pixel span of datapoint i.
func (g *Graph) stepX(area image.Rectangle, i int) (int, int) {
	t := g.Start + int64(i)*g.Step
	x0 := int(math.Round(g.xOf(area, t-g.Step)))
	x1 := int(math.Round(g.xOf(area, t)))
	return max(x0, area.Min.X), min(max(x1, x0+1), area.Max.X)
}

func (g *Graph) polyline(img *image.RGBA, area image.Rectangle, a *axisState, vs []float64, c color.NRGBA, width float64) {
	if width <= 0 {
		width = 1
	}
	px, py := math.NaN(), math.NaN()
	for i, v := range vs {
		if math.IsNaN(v) {
			px = math.NaN()
			continue
		}
		x0, x1 := g.stepX(area, i)
		y := a.yOf(area, v)
		if !math.IsNaN(px) {
			line(img, area, px, py, float64(x0), y, c, width)
		}
		line(img, area, float64(x0), y, float64(x1), y, c, width)
		px, py = float64(x1), y
	}
}

// heatmap counts, per step and value band, the heatmap lines there and
// shades cells by count.
func (g *Graph) heatmap(img *image.RGBA, area image.Rectangle, axes []*axisState, ss []drawn) {
	const rows = 40
	var lines []drawn
	for _, s := range ss {
		if s.line.Style == StyleHeatmap {
			lines = append(lines, s)
		}
	}
	a := axes[lines[0].axis]
	n := len(lines[0].top)
	counts := make([][rows]int, n)
	maxC := 0
	lo, hi := a.f(a.lo), a.f(a.hi)
	for _, s := range lines {
		for i, v := range s.top {
			if math.IsNaN(v) || i >= n {
				continue
			}
			r := int((a.f(v) - lo) / (hi - lo) * rows)
			if r < 0 || r >= rows {
				if r == rows {
					r = rows - 1
				} else {
					continue
				}
			}
			counts[i][r]++
			maxC = max(maxC, counts[i][r])
		}
	}
	base := lines[0].line.Color
	for i := range counts {
		x0, x1 := g.stepX(area, i)
		for r := 0; r < rows; r++ {
			if counts[i][r] == 0 {
				continue
			}
			y1 := area.Max.Y - r*area.Dy()/rows
			y0 := area.Max.Y - (r+1)*area.Dy()/rows
			c := base
			c.A = uint8(40 + 215*counts[i][r]/maxC)
			fillBlend(img, image.Rect(x0, y0, x1, y1).Intersect(area), c)
		}
	}
}

func truthy(v float64) bool { return !math.IsNaN(v) && v != 0 }

func (g *Graph) yAxes(img *image.RGBA, td *textDrawer, area image.Rectangle, axes []*axisState, labels *axisLabels) {
	rightX := area.Max.X
	for i, a := range axes {
		if !a.used {
			continue
		}
		labels.axis = fmt.Sprintf("y%d", i)
		for j, t := range a.ticks {
			y := int(math.Round(a.yOf(area, a.inv(t))))
			if y < area.Min.Y-1 || y > area.Max.Y+1 {
				continue
			}
			lbl := a.labels[j]
			if i == 0 {
				hline(img, area.Min.X-tickLen, area.Min.X, y, frameColor)
				labels.draw(area.Min.X-tickLen-2-td.width(lbl), y-td.height/2, lbl, textColor)
			} else {
				hline(img, rightX, rightX+tickLen, y, frameColor)
				labels.draw(rightX+tickLen+2, y-td.height/2, lbl, textColor)
			}
		}
		if a.label != "" {
			if i == 0 {
				td.drawVertical(img, area.Min.X-a.width, (area.Min.Y+area.Max.Y)/2, a.label, textColor)
			} else {
				td.drawVertical(img, rightX+a.width-td.height, (area.Min.Y+area.Max.Y)/2, a.label, textColor)
			}
		}
		if i > 0 {
			vline(img, rightX, area.Min.Y, area.Max.Y, frameColor)
			rightX += a.width
		}
	}
}

// minTickSpace is the least room between time ticks: a label ("Dec 07",
// "17:05:30") is 30 to 50 pixels wide.
const minTickSpace = 60

func (g *Graph) timeAxis(img *image.RGBA, td *textDrawer, area image.Rectangle, y int, z *time.Location, showZone bool, labels *axisLabels) {
	ticks, layout := timeTicks(g.Start, g.End, max(2, area.Dx()/minTickSpace), z)
	labels.axis = "time " + z.String()
	for _, t := range ticks {
		x := int(math.Round(g.xOf(area, t.UnixMilli())))
		vline(img, x, area.Max.Y, area.Max.Y+tickLen, frameColor)
		lbl := t.Format(layout)
		labels.draw(x-td.width(lbl)/2, y, lbl, textColor)
	}
	if showZone {
		name := z.String()
		td.draw(img, area.Max.X+4, y, name, textColor)
	}
}

func (g *Graph) legendHeight(td *textDrawer) int {
	h := 0
	if !g.NoLegend {
		per := td.height + 2
		if !g.NoLegendStats {
			per *= 2
		}
		h += len(g.Lines) * per
	}
	h += (len(g.Warnings) + 1) * (td.height + 2)
	return h + pad
}

func (g *Graph) legend(img *image.RGBA, td *textDrawer, x, y, width int) {
	if !g.NoLegend {
		for _, l := range g.Lines {
			box := image.Rect(x, y+2, x+td.height-4, y+td.height-2)
			fill(img, box, opaque(l.Color))
			td.draw(img, x+td.height+2, y, l.Legend, textColor)
			y += td.height + 2
			if !g.NoLegendStats {
				s := l.Stats
				stats := fmt.Sprintf("Max : %-8s Min : %-8s Avg : %-8s Last : %s",
					FormatValue(s.Max), FormatValue(s.Min), FormatValue(s.Avg), FormatValue(s.Last))
				td.draw(img, x+td.height+2+12, y, stats, textColor)
				y += td.height + 2
			}
		}
	}
	span := time.Duration(g.End-g.Start) * time.Millisecond
	end := time.UnixMilli(g.End).In(g.zone())
	foot := fmt.Sprintf("Frame: %s, End: %s, Step: %s", span, end.Format("2006-01-02T15:04 MST"),
		time.Duration(g.Step)*time.Millisecond)
	td.draw(img, x, y, foot, frameColor)
	y += td.height + 2
	for _, w := range g.Warnings {
		td.draw(img, x, y, "Warning: "+w, warnColor)
		y += td.height + 2
	}
}

func (g *Graph) zone() *time.Location {
	if len(g.Zones) > 0 {
		return g.Zones[0]
	}
	return time.UTC
}

func opaque(c color.NRGBA) color.NRGBA {
	c.A = 255
	return c
}
