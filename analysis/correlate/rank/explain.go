package rank

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/gaffer-sre/gaffer/analysis/changepoint/detect"
)

// Explanation says, for a person, why a candidate ranked where it did.
type Explanation struct {
	// Summary is one sentence per feature that counted.
	Summary string `json:"summary"`
	// Lead is how many steps before the target's onset the candidate
	// changed (negative: after it).
	Lead int `json:"lead"`
	// Baseline is the candidate's median before the onset, Shift the
	// Hodges–Lehmann estimate of its shift after it (in its units) and
	// Relative that shift as a fraction of |Baseline|: nil (JSON null)
	// when it has no value, and then RelativeNote says why.
	Baseline     float64  `json:"baseline"`
	Shift        float64  `json:"shift"`
	Relative     *float64 `json:"relative"`
	RelativeNote string   `json:"relative_note,omitempty"`
	// ChangePoints are the indices where analysis/changepoint (Pelt, l2
	// cost, BIC penalty) segments the candidate's focus window.
	ChangePoints []int `json:"change_points"`
}

// Explain describes candidate x with its features f. step is the grid's
// step, for wording lags as durations (0: in steps).
func (t *Target) Explain(ctx context.Context, x []float64, f Features, step time.Duration) (Explanation, error) {
	e := Explanation{Lead: t.Onset - f.Change, RelativeNote: "n/a: no data", ChangePoints: []int{}}
	if len(x) != t.n || f.Note != "" {
		e.Summary = f.Note
		return e, nil
	}
	filled := make([]float64, t.n)
	if _, ok := fillGaps(filled, x); !ok {
		e.Summary = "no data"
		return e, nil
	}
	before, after := filled[t.From:t.Onset], filled[t.Onset:t.To]
	e.Baseline = detect.Median(append([]float64(nil), before...))
	e.Shift = HodgesLehmann(before, after)
	e.Relative, e.RelativeNote = relative(e.Shift, e.Baseline)
	sig, err := detect.NewSeries(filled[t.From:t.To])
	if err != nil {
		return e, fmt.Errorf("explain: %w", err)
	}
	pen := detect.PenaltyBIC(sig)
	bkps, err := detect.Detect(ctx, sig, detect.Params{Method: "pelt", Cost: "l2", Pen: &pen, MinSize: 3, Jump: 1})
	if err != nil {
		return e, fmt.Errorf("explain: change points: %w", err)
	}
	for _, b := range bkps[:len(bkps)-1] {
		e.ChangePoints = append(e.ChangePoints, t.From+b)
	}
	e.Summary = t.summary(f, e, step)
	return e, nil
}

// summary words the features that counted.
func (t *Target) summary(f Features, e Explanation, step time.Duration) string {
	var parts []string
	dur := func(steps int) string {
		if step <= 0 {
			return fmt.Sprintf("%d steps", steps)
		}
		return (time.Duration(steps) * step).String()
	}
	when := func(lead int) string {
		switch {
		case lead > 0:
			return dur(lead) + " before the target"
		case lead < 0:
			return dur(-lead) + " after the target"
		}
		return "with the target"
	}
	switch {
	case f.ChangePoint > 0 && f.Slope:
		parts = append(parts, fmt.Sprintf("its climb between collections changed %s (by %s a step, %s)", when(e.Lead), signed(f.ChangeSize), VariationText(f.ChangeZ)))
	case f.ChangePoint > 0:
		parts = append(parts, fmt.Sprintf("changed %s (by %s, %s)", when(e.Lead), signed(f.ChangeSize), VariationText(f.ChangeZ)))
	}
	if f.XCorr > 0 {
		parts = append(parts, fmt.Sprintf("its minute-to-minute moves follow the target's (r = %.2f on differences, %s)", f.R, when(-f.Lag)))
	}
	if f.Rank > 0 {
		parts = append(parts, fmt.Sprintf("its level tracks the target's through the anomaly (Spearman ρ = %.2f)", f.Rho))
	}
	if f.Shift > 0 {
		rel := ""
		if e.Relative != nil {
			rel = fmt.Sprintf(", %+.0f%% of its baseline", 100**e.Relative)
		}
		parts = append(parts, fmt.Sprintf("its values after the onset differ from those before (Mann-Whitney p = %.2g; Hodges–Lehmann shift %s%s)",
			f.P, signed(e.Shift), rel))
	}
	if len(parts) == 0 {
		return "no feature stands out from noise"
	}
	s := strings.Join(parts, "; ")
	return strings.ToUpper(s[:1]) + s[1:] + "."
}

// relative is shift as a fraction of |baseline|, or nil and why not.
func relative(shift, baseline float64) (*float64, string) {
	switch {
	case baseline == 0:
		return nil, "n/a: the median before the onset is 0"
	case math.IsNaN(shift) || math.IsInf(shift, 0) || math.IsInf(baseline, 0) || math.IsNaN(baseline):
		return nil, "n/a: the values are not finite"
	}
	r := shift / math.Abs(baseline)
	if math.IsInf(r, 0) { // a tiny baseline
		return nil, "n/a: the median before the onset is too close to 0"
	}
	return &r, ""
}

// signed formats a value with its sign and four significant digits.
func signed(v float64) string { return fmt.Sprintf("%+.4g", v) }
