package chart

import (
	"image"
	"image/color"
)

// labelGap is the least room between two tick labels side by side.
const labelGap = 4

// axisLabels places one axis's tick labels in an image: a label is
// moved inside the image if it would stick out of it by less than half
// its size, and left out if it would still stick out or come within
// labelGap of the label placed before it. So labels never overlap and
// are never cut off, however small the graph.
type axisLabels struct {
	// axis names the axis ("y0" … "y4", or "time " and a zone).
	axis   string
	img    *image.RGBA
	td     *textDrawer
	placed []image.Rectangle
	// drawn, when set, is told of every label drawn (tests read it).
	drawn func(axis, text string, box image.Rectangle)
}

// draw draws text with its top-left corner at (x, y), or leaves it out
// (see axisLabels); it reports whether the label was drawn.
func (l *axisLabels) draw(x, y int, text string, c color.Color) bool {
	w, h := l.td.width(text), l.td.height
	b := l.img.Bounds()
	x = clampInto(x, w, b.Min.X, b.Max.X)
	y = clampInto(y, h, b.Min.Y, b.Max.Y)
	box := image.Rect(x, y, x+w, y+h)
	if !box.In(b) {
		return false
	}
	wide := func(r image.Rectangle) image.Rectangle {
		return image.Rect(r.Min.X-labelGap/2, r.Min.Y, r.Max.X+labelGap/2, r.Max.Y)
	}
	for _, p := range l.placed {
		if wide(box).Overlaps(wide(p)) {
			return false
		}
	}
	l.placed = append(l.placed, box)
	l.td.draw(l.img, x, y, text, c)
	if l.drawn != nil {
		l.drawn(l.axis, text, box)
	}
	return true
}

// clampInto moves a span [at, at+size) into [lo, hi) when it sticks out
// by less than half its size.
func clampInto(at, size, lo, hi int) int {
	switch {
	case at < lo && lo-at < size/2:
		return lo
	case at+size > hi && at+size-hi < size/2:
		return hi - size
	}
	return at
}
