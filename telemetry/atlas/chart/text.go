package chart

import (
	"image"
	"image/color"
	"image/draw"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

var (
	fontOnce sync.Once
	goFont   *opentype.Font
	fontErr  error
)

// newFace returns a face of the Go font; faces are not safe for
// concurrent use, so each render makes its own.
func newFace(size float64) (font.Face, error) {
	fontOnce.Do(func() { goFont, fontErr = opentype.Parse(goregular.TTF) })
	if fontErr != nil {
		return nil, fontErr
	}
	return opentype.NewFace(goFont, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingFull})
}

type textDrawer struct {
	face   font.Face
	ascent int
	height int
}

func newTextDrawer(size float64) (*textDrawer, error) {
	f, err := newFace(size)
	if err != nil {
		return nil, err
	}
	m := f.Metrics()
	return &textDrawer{face: f, ascent: m.Ascent.Ceil(), height: m.Height.Ceil()}, nil
}

func (t *textDrawer) width(s string) int { return font.MeasureString(t.face, s).Ceil() }

// draw writes s with its top-left corner at (x, y).
func (t *textDrawer) draw(dst draw.Image, x, y int, s string, c color.Color) {
	d := font.Drawer{Dst: dst, Src: image.NewUniform(c), Face: t.face, Dot: fixed.P(x, y+t.ascent)}
	d.DrawString(s)
}

// drawVertical writes s rotated a quarter turn counter-clockwise, its
// left edge at x and centred on cy.
func (t *textDrawer) drawVertical(dst *image.RGBA, x, cy int, s string, c color.Color) {
	w := t.width(s)
	tmp := image.NewRGBA(image.Rect(0, 0, w, t.height))
	t.draw(tmp, 0, 0, s, c)
	top := cy - w/2
	for yy := 0; yy < t.height; yy++ {
		for xx := 0; xx < w; xx++ {
			px := tmp.RGBAAt(xx, yy)
			if px.A == 0 {
				continue
			}
			blend(dst, x+yy, top+w-1-xx, color.NRGBA{R: c.(color.NRGBA).R, G: c.(color.NRGBA).G, B: c.(color.NRGBA).B, A: px.A})
		}
	}
}
