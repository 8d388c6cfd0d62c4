package rank

import (
	"fmt"
	"math"
)

// MaxMagnitude bounds the values ranked: beyond it the sums of squares
// the statistics are built from overflow float64. No metric comes near
// it; a series that does is refused (target) or not scored (candidate),
// with the reason, instead of yielding NaN or Inf scores.
const MaxMagnitude = 1e100

// tooLarge returns the first finite value of x beyond MaxMagnitude, and
// whether there is one.
func tooLarge(x []float64) (float64, bool) {
	for _, v := range x {
		if a := math.Abs(v); a > MaxMagnitude && a <= math.MaxFloat64 {
			return v, true
		}
	}
	return 0, false
}

// checkMagnitude is the error for a target with values beyond
// MaxMagnitude.
func checkMagnitude(y []float64) error {
	if v, big := tooLarge(y); big {
		return fmt.Errorf("%w: the target has a value of %g; values beyond ±%g cannot be compared", ErrBadInput, v, MaxMagnitude)
	}
	return nil
}

// finite returns f, or, if any of its statistics is NaN or infinite
// (which no input within MaxMagnitude should give), f unscored with a
// note saying why: NaN cannot be encoded, and must not rank.
func (f Features) finite() Features {
	for _, v := range [...]float64{f.Score, f.R, f.XCorr, f.Rho, f.Rank, f.ChangeSize, f.ChangeZ,
		f.ChangePoint, f.Effect, f.P, f.Shift, f.Phi, f.Precedes} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return Features{Change: f.Change, Missing: f.Missing, Note: "n/a: its statistics are not finite numbers"}
		}
	}
	return f
}

// scoreFinite scores x, refusing values beyond MaxMagnitude where the
// features read it. The long windows' longer history before focusFrom
// is only summed, which no value within float64 overflows over a
// window, so it is not checked.
func (s *Scorer) scoreFinite(x []float64) Features {
	read := x
	if len(x) == s.t.n {
		_, hi := s.t.region()
		read = x[s.t.focusFrom():hi]
	}
	if v, big := tooLarge(read); big {
		return Features{Note: fmt.Sprintf("n/a: a value of %g is beyond ±%g, too large to compare", v, MaxMagnitude)}
	}
	return s.Score(x).finite()
}
