package display

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"strings"
	"testing"

	"github.com/gaffer-sre/gaffer/analysis/changepoint/detect"
)

// steps is a two-dimensional signal of n samples: dimension 0 steps from 0
// up to 10 at sample n/2, dimension 1 from 10 down to 0.
func steps(t *testing.T, n int) *detect.Signal {
	t.Helper()
	rows := make([][]float64, n)
	for i := range rows {
		if i < n/2 {
			rows[i] = []float64{0, 10}
		} else {
			rows[i] = []float64{10, 0}
		}
	}
	s, err := detect.NewSignal(rows)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func decode(t *testing.T, s *detect.Signal, trueBkps, pred []int, w, h int) image.Image {
	t.Helper()
	var buf bytes.Buffer
	if err := WritePNG(&buf, s, trueBkps, pred, w, h); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
		t.Fatalf("image is %v, want %dx%d", b, w, h)
	}
	return img
}

func nrgba(img image.Image, x, y int) color.NRGBA {
	return color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
}

// column returns the x of the middle of sample i in panel r of n samples.
func column(r image.Rectangle, i, n int) int {
	return r.Min.X + int((float64(i)+0.5)*float64(r.Dx())/float64(n))
}

// rowsOf returns the rows of column x inside r whose pixel is c.
func rowsOf(img image.Image, r image.Rectangle, x int, c color.NRGBA) []int {
	var ys []int
	for y := r.Min.Y; y < r.Max.Y; y++ {
		if nrgba(img, x, y) == c {
			ys = append(ys, y)
		}
	}
	return ys
}

func TestWritePNGDrawsSeriesShadingAndBreakpoints(t *testing.T) {
	const n, w, h = 200, 600, 400
	img := decode(t, steps(t, n), []int{100, 200}, []int{90, 200}, w, h)
	panels, err := layout(w, h, 2)
	if err != nil {
		t.Fatal(err)
	}
	for j, r := range panels {
		lo, hi := valueRange(0, 10)
		yOf := func(v float64) float64 { return float64(r.Min.Y) + (hi-v)/(hi-lo)*float64(r.Dy()) }
		left, right := 0.0, 10.0
		if j == 1 {
			left, right = 10, 0
		}
		for _, c := range []struct {
			sample int
			want   float64
		}{{40, left}, {99, left}, {100, right}, {150, right}} {
			ys := rowsOf(img, r, column(r, c.sample, n), lineColor)
			if len(ys) == 0 {
				t.Fatalf("panel %d: no line pixel at sample %d", j, c.sample)
			}
			if got := float64(ys[0]); math.Abs(got-yOf(c.want)) > 2 {
				t.Errorf("panel %d sample %d: line at y=%v, want %v (value %v)", j, c.sample, got, yOf(c.want), c.want)
			}
		}
		mid := (r.Min.Y + r.Max.Y) / 2
		for _, i := range []int{0, 50, 99} {
			if p := nrgba(img, column(r, i, n), mid); !(p.B > p.R && p.R < 255) {
				t.Errorf("panel %d: sample %d (first true segment) pixel %v, want a blue shade", j, i, p)
			}
		}
		for _, i := range []int{100, 150, 199} {
			if p := nrgba(img, column(r, i, n), mid); !(p.R > p.B && p.B < 255) {
				t.Errorf("panel %d: sample %d (second true segment) pixel %v, want a red shade", j, i, p)
			}
		}
		bx := r.Min.X + int(math.Round(90*float64(r.Dx())/n))
		for _, x := range []int{bx - 1, bx} {
			if got := len(rowsOf(img, r, x, bkpColor)); got < r.Dy()/3 {
				t.Errorf("panel %d: %d black pixels in breakpoint column %d, want a dashed line", j, got, x)
			}
		}
		for _, x := range []int{column(r, 50, n), r.Max.X - 2} {
			if got := len(rowsOf(img, r, x, bkpColor)); got != 0 {
				t.Errorf("panel %d: %d black pixels in column %d, which has no breakpoint", j, got, x)
			}
		}
		caption := image.Rect(r.Min.X, r.Min.Y-captionH, r.Min.X+100, r.Min.Y)
		if got := len(rowsOf(img, caption, caption.Min.X+3, color.NRGBA{A: 255})) +
			len(rowsOf(img, caption, caption.Min.X+4, color.NRGBA{A: 255})); got == 0 {
			t.Errorf("panel %d: no caption text above the plot", j)
		}
	}
}

func TestWritePNGShadesPredictedWithoutTruth(t *testing.T) {
	const n, w, h = 200, 400, 300
	img := decode(t, steps(t, n), nil, []int{90, 200}, w, h)
	panels, err := layout(w, h, 2)
	if err != nil {
		t.Fatal(err)
	}
	r := panels[0]
	mid := (r.Min.Y + r.Max.Y) / 2
	if p := nrgba(img, column(r, 95, n), mid); !(p.R > p.B && p.B < 255) {
		t.Errorf("sample 95 (second predicted segment) pixel %v, want a red shade", p)
	}
}

func TestWritePNGFlatSignal(t *testing.T) {
	s, err := detect.NewSeries([]float64{3, 3, 3, 3})
	if err != nil {
		t.Fatal(err)
	}
	img := decode(t, s, nil, []int{4}, 200, 120)
	panels, err := layout(200, 120, 1)
	if err != nil {
		t.Fatal(err)
	}
	r := panels[0]
	ys := rowsOf(img, r, column(r, 1, 4), lineColor)
	if len(ys) == 0 || math.Abs(float64(ys[0])-float64(r.Min.Y+r.Max.Y)/2) > 2 {
		t.Errorf("flat line at rows %v, want the middle of %v", ys, r)
	}
}

func TestWritePNGRejectsBadInput(t *testing.T) {
	s := steps(t, 200)
	tests := []struct {
		name           string
		trueBkps, pred []int
		width, height  int
		want           string
	}{
		{"narrow", nil, []int{200}, 20, 400, "width 20 px"},
		{"short", nil, []int{200}, 600, 60, "height 60 px"},
		{"zero", nil, []int{200}, 0, 400, "image size 0x400"},
		{"huge", nil, []int{200}, 1 << 16, 1 << 16, "at most"},
		{"unsorted truth", []int{100, 50, 200}, []int{200}, 600, 400, "true breakpoints: entry 1 is 50"},
		{"past the end", nil, []int{300}, 600, 400, "predicted breakpoints: entry 0 is 300"},
		{"zero breakpoint", nil, []int{0, 200}, 600, 400, "predicted breakpoints: entry 0 is 0"},
	}
	for _, tc := range tests {
		var buf bytes.Buffer
		err := WritePNG(&buf, s, tc.trueBkps, tc.pred, tc.width, tc.height)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to mention %q", tc.name, err, tc.want)
		}
		if buf.Len() != 0 {
			t.Errorf("%s: wrote %d bytes despite the error", tc.name, buf.Len())
		}
	}
}
