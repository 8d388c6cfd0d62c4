// Package display draws a change-point result the way ruptures' display
// does: one panel per dimension, the true segments shaded in alternating
// colours, predicted breakpoints as dashed vertical lines.
package display

import (
	"fmt"
	"image/color"
	"io"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/gaffer-sre/gaffer/analysis/changepoint"
)

var (
	shades    = []color.Color{color.NRGBA{0x42, 0x86, 0xf4, 0x33}, color.NRGBA{0xf4, 0x41, 0x74, 0x33}}
	lineColor = color.NRGBA{0x1f, 0x3b, 0x73, 0xff}
)

// WritePNG renders s with the true segmentation trueBkps shaded (nil shades
// the predicted segments instead) and the predicted breakpoints pred drawn
// as dashed lines, and writes a PNG of width x height points to w.
func WritePNG(w io.Writer, s *changepoint.Signal, trueBkps, pred []int, width, height vg.Length) error {
	d := s.Dims()
	shaded := trueBkps
	if shaded == nil {
		shaded = pred
	}
	plots := make([][]*plot.Plot, d)
	for j := 0; j < d; j++ {
		p, err := panel(s, j, shaded, pred)
		if err != nil {
			return fmt.Errorf("plot dimension %d: %w", j, err)
		}
		plots[j] = []*plot.Plot{p}
	}
	img := vgimg.New(width, height)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: d, Cols: 1, PadX: vg.Millimeter, PadY: vg.Millimeter,
		PadTop: vg.Millimeter, PadBottom: vg.Millimeter, PadLeft: vg.Millimeter, PadRight: vg.Millimeter}
	canvases := plot.Align(plots, tiles, dc)
	for j := range plots {
		plots[j][0].Draw(canvases[j][0])
	}
	png := vgimg.PngCanvas{Canvas: img}
	if _, err := png.WriteTo(w); err != nil {
		return fmt.Errorf("write png: %w", err)
	}
	return nil
}

func panel(s *changepoint.Signal, j int, shaded, pred []int) (*plot.Plot, error) {
	n := s.Len()
	col := s.Column(j)
	lo, hi := col[0], col[0]
	pts := make(plotter.XYs, n)
	for i, v := range col {
		pts[i] = plotter.XY{X: float64(i), Y: v}
		lo, hi = min(lo, v), max(hi, v)
	}
	if lo == hi {
		lo, hi = lo-1, hi+1
	}
	p := plot.New()
	p.X.Min, p.X.Max = 0, float64(n)
	p.Y.Min, p.Y.Max = lo, hi
	start := 0
	for k, e := range shaded {
		poly, err := plotter.NewPolygon(plotter.XYs{
			{X: float64(start), Y: lo}, {X: float64(e), Y: lo}, {X: float64(e), Y: hi}, {X: float64(start), Y: hi}})
		if err != nil {
			return nil, err
		}
		poly.Color = shades[k%2]
		poly.LineStyle.Width = 0
		p.Add(poly)
		start = e
	}
	line, err := plotter.NewLine(pts)
	if err != nil {
		return nil, err
	}
	line.Color = lineColor
	line.Width = vg.Points(1)
	p.Add(line)
	for _, b := range pred {
		if b >= n {
			continue
		}
		v, err := plotter.NewLine(plotter.XYs{{X: float64(b), Y: lo}, {X: float64(b), Y: hi}})
		if err != nil {
			return nil, err
		}
		v.Color = color.Black
		v.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		v.Width = vg.Points(1.5)
		p.Add(v)
	}
	return p, nil
}
