package display

import (
	"bytes"
	"image/png"
	"testing"

	"gonum.org/v1/plot/vg"

	"github.com/gaffer-sre/gaffer/analysis/changepoint"
)

func TestWritePNG(t *testing.T) {
	s, _, err := changepoint.PwConstant(200, 2, 3, 1, 7)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WritePNG(&buf, s, []int{50, 120, 200}, []int{48, 121, 200}, 8*vg.Inch, 4*vg.Inch); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() < 100 || b.Dy() < 100 {
		t.Errorf("image too small: %v", b)
	}
}
