package chart

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"testing"
	"time"
)

// TestTickLabelsNeitherOverlapNorLeaveTheImage renders graphs from
// 120×60 to 1400×400 over spans from five minutes to two years, on
// linear and log axes of small and large values, with one and two time
// zones, and checks every tick label drawn: it lies inside the image, it
// overlaps no other label, and each axis keeps at least two labels once
// the graph has room for them.
func TestTickLabelsNeitherOverlapNorLeaveTheImage(t *testing.T) {
	end := time.Date(2026, 12, 7, 17, 23, 0, 0, time.UTC).UnixMilli()
	la, _ := time.LoadLocation("America/Los_Angeles")
	spans := []time.Duration{5 * time.Minute, time.Hour, 3 * time.Hour, 24 * time.Hour, 7 * 24 * time.Hour,
		60 * 24 * time.Hour, 2 * 365 * 24 * time.Hour}
	sizes := [][2]int{{120, 60}, {200, 125}, {400, 150}, {700, 300}, {1400, 400}}
	scales := []struct {
		name   string
		scale  string
		lo, hi float64
	}{{"small", "linear", 0, 0.003}, {"millions", "linear", 2_400_000, 2_500_000}, {"negative", "linear", -7e9, 3e9}, {"log", "log", 1, 1e9}}
	for _, span := range spans {
		for _, size := range sizes {
			for _, sc := range scales {
				for _, zones := range [][]*time.Location{{time.UTC}, {time.UTC, la}} {
					name := fmt.Sprintf("%s/%dx%d/%s/%dzones", span, size[0], size[1], sc.name, len(zones))
					step := max(int64(span/time.Millisecond)/int64(size[0]), 1000)
					g := &Graph{Width: size[0], Height: size[1], Start: end - int64(span/time.Millisecond), End: end, Step: step, Zones: zones}
					for i := range g.Axes {
						g.Axes[i] = Axis{Lower: math.NaN(), Upper: math.NaN(), Scale: "linear"}
					}
					g.Axes[0].Scale = sc.scale
					n := int((g.End - g.Start) / step)
					vs := make([]float64, n)
					for i := range vs {
						vs[i] = sc.lo + (sc.hi-sc.lo)*float64(i)/float64(max(n-1, 1))
					}
					g.Lines = []Line{{Legend: "x", Values: vs, Color: color.NRGBA{0, 0, 255, 255}, Width: 1}}
					checkLabels(t, name, g)
				}
			}
		}
	}
}

func checkLabels(t *testing.T, name string, g *Graph) {
	t.Helper()
	type label struct {
		axis, text string
		box        image.Rectangle
	}
	var labels []label
	perAxis := map[string]int{}
	g.labelDrawn = func(axis, text string, box image.Rectangle) {
		labels = append(labels, label{axis, text, box})
		perAxis[axis]++
	}
	img, err := g.Render()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	for i, l := range labels {
		if !l.box.In(img.Bounds()) {
			t.Errorf("%s: label %q at %v leaves the %v image", name, l.text, l.box, img.Bounds().Size())
		}
		for _, o := range labels[:i] {
			if l.box.Overlaps(o.box) {
				t.Errorf("%s: labels %q %v and %q %v overlap", name, o.text, o.box, l.text, l.box)
			}
		}
	}
	if g.Width >= 200 && g.Height >= 100 {
		axes := []string{"y0"}
		for _, z := range g.Zones {
			axes = append(axes, "time "+z.String())
		}
		for _, a := range axes {
			if perAxis[a] < 2 {
				t.Errorf("%s: axis %s has %d labels: %v", name, a, perAxis[a], labels)
			}
		}
	}
}
