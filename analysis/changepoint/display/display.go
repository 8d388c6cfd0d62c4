// Package display draws a change-point result the way ruptures' display
// does: one panel per dimension, the true segments shaded in alternating
// colours, predicted breakpoints as dashed vertical lines.
//
// Each panel's plot is drawn by Gaffer's Atlas chart renderer
// (telemetry/atlas/chart); this package lays the panels out, captions
// them and draws the breakpoint markers. See docs/changepoint.md.
package display

import (
	"bufio"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/gaffer-sre/gaffer/analysis/changepoint/detect"
	"github.com/gaffer-sre/gaffer/telemetry/atlas/chart"
)

// MaxPixels bounds width*height of an image WritePNG will draw (256 MiB
// of RGBA); larger requests are rejected before anything is allocated.
const MaxPixels = 1 << 26

const (
	margin   = 8  // pixels around the image and below each panel
	captionH = 16 // pixels of caption text above each panel
	minPlot  = 20 // smallest plot area side, in pixels
)

var (
	shades     = []color.NRGBA{{0x42, 0x86, 0xf4, 0x33}, {0xf4, 0x41, 0x74, 0x33}}
	lineColor  = color.NRGBA{0x1f, 0x3b, 0x73, 0xff}
	bkpColor   = color.NRGBA{0, 0, 0, 0xff}
	frameColor = color.NRGBA{120, 120, 120, 0xff}
	background = color.NRGBA{0xff, 0xff, 0xff, 0xff}
)

// WritePNG renders s with the true segmentation trueBkps shaded (nil shades
// the predicted segments instead) and the predicted breakpoints pred drawn
// as dashed lines, and writes a PNG of exactly width x height pixels to w.
// Breakpoints are sample indices ending a segment: strictly increasing,
// each in [1, s.Len()]; a breakpoint at s.Len() draws no line.
func WritePNG(w io.Writer, s *detect.Signal, trueBkps, pred []int, width, height int) error {
	img, err := render(s, trueBkps, pred, width, height)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	if err := png.Encode(bw, img); err != nil {
		return fmt.Errorf("encode png: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write png: %w", err)
	}
	return nil
}

// render draws the image WritePNG encodes.
func render(s *detect.Signal, trueBkps, pred []int, width, height int) (*image.RGBA, error) {
	n, d := s.Len(), s.Dims()
	if err := checkBkps("true breakpoints", trueBkps, n); err != nil {
		return nil, err
	}
	if err := checkBkps("predicted breakpoints", pred, n); err != nil {
		return nil, err
	}
	panels, err := layout(width, height, d)
	if err != nil {
		return nil, err
	}
	shaded := trueBkps
	if shaded == nil {
		shaded = pred
	}
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	draw.Draw(img, img.Bounds(), image.NewUniform(background), image.Point{}, draw.Src)
	for j, r := range panels {
		col := s.Column(j)
		lo, hi := col[0], col[0]
		for _, v := range col {
			lo, hi = min(lo, v), max(hi, v)
		}
		caption(img, r.Min.X, r.Min.Y-captionH,
			fmt.Sprintf("dimension %d   min %s   max %s", j, chart.FormatValue(lo), chart.FormatValue(hi)))
		lo, hi = valueRange(lo, hi)
		plot, err := panelGraph(col, lo, hi, shaded, r.Dx(), r.Dy()).Render()
		if err != nil {
			return nil, fmt.Errorf("draw dimension %d: %w", j, err)
		}
		draw.Draw(img, r, plot, image.Point{}, draw.Src)
		frame(img, r)
		for _, b := range pred {
			if b < n {
				dashedVertical(img, r, r.Min.X+int(math.Round(float64(b)*float64(r.Dx())/float64(n))))
			}
		}
	}
	return img, nil
}

// panelGraph is one dimension as a chart: sample i spans [i, i+1) on the
// x axis (the chart draws datapoint k over the step ending at k, hence the
// leading NaN), segments as alternating vertical spans, the values as a line.
func panelGraph(col []float64, lo, hi float64, shaded []int, w, h int) *chart.Graph {
	n := len(col)
	g := &chart.Graph{Width: w, Height: h, Start: 0, End: int64(n), Step: 1, OnlyGraph: true}
	g.Axes[0] = chart.Axis{Lower: lo, Upper: hi}
	spans := [2][]float64{make([]float64, n+1), make([]float64, n+1)}
	start := 0
	for k, e := range shaded {
		for i := start; i < e; i++ {
			spans[k%2][i+1] = 1
		}
		start = e
	}
	for k, vs := range spans {
		g.Lines = append(g.Lines, chart.Line{Values: vs, Color: shades[k], Style: chart.StyleVSpan})
	}
	values := append([]float64{math.NaN()}, col...)
	g.Lines = append(g.Lines, chart.Line{Values: values, Color: lineColor, Style: chart.StyleLine, Width: 1})
	return g
}

// valueRange widens [lo, hi] by 5% on each side (by 1 if the panel is
// flat) so lines at the extremes are not hidden under the frame.
func valueRange(lo, hi float64) (float64, float64) {
	if lo == hi {
		return lo - 1, hi + 1
	}
	pad := (hi - lo) * 0.05
	return lo - pad, hi + pad
}

// layout returns the plot area of each of d panels stacked top to bottom,
// each below a caption line.
func layout(width, height, d int) ([]image.Rectangle, error) {
	if width <= 0 || height <= 0 || width > MaxPixels/max(height, 1) {
		return nil, fmt.Errorf("image size %dx%d: want positive sides and at most %d pixels", width, height, MaxPixels)
	}
	plotW := width - 2*margin
	if plotW < minPlot {
		return nil, fmt.Errorf("width %d px: too small, need at least %d", width, 2*margin+minPlot)
	}
	plotH := (height - margin - d*(captionH+margin)) / d
	if plotH < minPlot {
		return nil, fmt.Errorf("height %d px: too small for %d panels, need at least %d",
			height, d, margin+d*(captionH+margin+minPlot))
	}
	out := make([]image.Rectangle, d)
	y := margin
	for j := range out {
		y += captionH
		out[j] = image.Rect(margin, y, margin+plotW, y+plotH)
		y += plotH + margin
	}
	return out, nil
}

func checkBkps(field string, bkps []int, n int) error {
	prev := 0
	for i, b := range bkps {
		if b <= prev || b > n {
			return fmt.Errorf("%s: entry %d is %d, want strictly increasing values in [1, %d]", field, i, b, n)
		}
		prev = b
	}
	return nil
}

func caption(img *image.RGBA, x, y int, text string) {
	face := basicfont.Face7x13
	d := font.Drawer{Dst: img, Src: image.NewUniform(color.Black), Face: face,
		Dot: fixed.P(x, y+face.Metrics().Ascent.Ceil())}
	d.DrawString(text)
}

func frame(img *image.RGBA, r image.Rectangle) {
	for x := r.Min.X; x < r.Max.X; x++ {
		img.Set(x, r.Min.Y, frameColor)
		img.Set(x, r.Max.Y-1, frameColor)
	}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		img.Set(r.Min.X, y, frameColor)
		img.Set(r.Max.X-1, y, frameColor)
	}
}

// dashedVertical draws a 2-pixel black line centred on column x across
// the inside of r, in dashes of 4 pixels with gaps of 3.
func dashedVertical(img *image.RGBA, r image.Rectangle, x int) {
	for y := r.Min.Y + 1; y < r.Max.Y-1; y++ {
		if (y-r.Min.Y-1)%7 >= 4 {
			continue
		}
		for _, px := range []int{x - 1, x} {
			if px > r.Min.X && px < r.Max.X-1 {
				img.Set(px, y, bkpColor)
			}
		}
	}
}
