package rank

import (
	"strings"
	"testing"
)

// TestFlatBaselineVariationText: a target that sat perfectly still and
// then stepped has no spread to measure its change against. Its z is the
// FlatZ marker, and the words say the baseline did not vary, not
// "1000000.0 times its usual variation".
func TestFlatBaselineVariationText(t *testing.T) {
	y := make([]float64, 240)
	for i := range y {
		y[i] = 10
		if i >= 180 {
			y[i] = 14.5
		}
	}
	tg, err := NewTarget(y, Window{Start: 180, End: 240}, Params{})
	if err != nil {
		t.Fatal(err)
	}
	if tg.ChangeZ != FlatZ || tg.Change <= 0 {
		t.Fatalf("change %v, z %v: want a positive change with z FlatZ", tg.Change, tg.ChangeZ)
	}
	text := VariationText(tg.ChangeZ)
	if text != "from a baseline that did not vary at all" || strings.Contains(text, "times") {
		t.Errorf("flat baseline: %q", text)
	}
	if got := ZText(-FlatZ); got != "flat baseline" {
		t.Errorf("ZText(-FlatZ) = %q", got)
	}
	for z, want := range map[float64]string{4.24: "4.2 times its usual variation", -3: "3.0 times its usual variation"} {
		if got := VariationText(z); got != want {
			t.Errorf("VariationText(%v) = %q, want %q", z, got, want)
		}
	}
	if got := ZText(-3.04); got != "-3.0" {
		t.Errorf("ZText(-3.04) = %q", got)
	}
}
