package chart

import (
	"image"
	"image/color"
	"math"
)

func fill(img *image.RGBA, r image.Rectangle, c color.NRGBA) {
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		i := img.PixOffset(r.Min.X, y)
		for x := r.Min.X; x < r.Max.X; x++ {
			img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = c.R, c.G, c.B, 255
			i += 4
		}
	}
}

// blend draws c over the pixel at (x, y) with c's alpha.
func blend(img *image.RGBA, x, y int, c color.NRGBA) {
	if !(image.Point{x, y}.In(img.Bounds())) {
		return
	}
	i := img.PixOffset(x, y)
	a := uint32(c.A)
	if a == 255 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = c.R, c.G, c.B, 255
		return
	}
	mix := func(dst uint8, src uint8) uint8 { return uint8((uint32(src)*a + uint32(dst)*(255-a)) / 255) }
	img.Pix[i], img.Pix[i+1], img.Pix[i+2] = mix(img.Pix[i], c.R), mix(img.Pix[i+1], c.G), mix(img.Pix[i+2], c.B)
	img.Pix[i+3] = 255
}

func fillBlend(img *image.RGBA, r image.Rectangle, c color.NRGBA) {
	if c.A == 255 {
		fill(img, r, c)
		return
	}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			blend(img, x, y, c)
		}
	}
}

func hline(img *image.RGBA, x0, x1, y int, c color.NRGBA) { fill(img, image.Rect(x0, y, x1, y+1), c) }
func vline(img *image.RGBA, x, y0, y1 int, c color.NRGBA) { fill(img, image.Rect(x, y0, x+1, y1), c) }

func dashH(img *image.RGBA, x0, x1, y int, c color.NRGBA) {
	for x := x0; x < x1; x += 4 {
		hline(img, x, min(x+2, x1), y, c)
	}
}

func dashV(img *image.RGBA, x, y0, y1 int, c color.NRGBA) {
	for y := y0; y < y1; y += 4 {
		vline(img, x, y, min(y+2, y1), c)
	}
}

func rect(img *image.RGBA, r image.Rectangle, c color.NRGBA) {
	hline(img, r.Min.X, r.Max.X, r.Min.Y, c)
	hline(img, r.Min.X, r.Max.X+1, r.Max.Y, c)
	vline(img, r.Min.X, r.Min.Y, r.Max.Y, c)
	vline(img, r.Max.X, r.Min.Y, r.Max.Y, c)
}

// line draws a segment of the given width clipped to clip, anti-aliased
// along its length by sampling each pixel step.
func line(img *image.RGBA, clip image.Rectangle, x0, y0, x1, y1 float64, c color.NRGBA, width float64) {
	dx, dy := x1-x0, y1-y0
	n := int(math.Ceil(math.Max(math.Abs(dx), math.Abs(dy))))
	if n == 0 {
		n = 1
	}
	half := (width - 1) / 2
	for i := 0; i <= n; i++ {
		x := x0 + dx*float64(i)/float64(n)
		y := y0 + dy*float64(i)/float64(n)
		for oy := -half; oy <= half+1e-9; oy++ {
			for ox := -half; ox <= half+1e-9; ox++ {
				px, py := int(math.Round(x+ox)), int(math.Round(y+oy))
				if (image.Point{px, py}).In(clip.Inset(-1)) && py >= clip.Min.Y && py <= clip.Max.Y {
					blend(img, px, py, c)
				}
			}
		}
	}
}
