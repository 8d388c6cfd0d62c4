package correlate

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/gaffer-sre/gaffer/analysis/correlate/rank"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
	"github.com/gaffer-sre/gaffer/internal/platform/ui"
)

//go:embed templates/*.html
var templates embed.FS

//go:embed assets
var assets embed.FS

// pages are the system's parsed pages.
type pages struct {
	list, report *ui.Page
}

// Pages registers the reports list, the report page and their script.
func (s *Service) Pages(sh *ui.Shell) {
	s.pages = &pages{list: sh.Parse(templates, "templates/reports.html"), report: sh.Parse(templates, "templates/report.html")}
	sh.Nav(ui.NavItem{Title: "Analysis", Path: "/analysis", Scope: ReadScope, Order: 310})
	sh.Handle(httpapi.Route{Method: "GET", Path: "/analysis", Scope: ReadScope, Summary: "Analysis reports page", Handler: s.pageList})
	sh.Handle(httpapi.Route{Method: "GET", Path: "/analysis/reports/{id}", Scope: ReadScope, Summary: "An analysis report", Handler: s.pageReport})
	static, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(fmt.Sprintf("analysis: embedded assets: %v", err))
	}
	sh.Handle(httpapi.Route{Method: "GET", Path: "/analysis/assets/", Public: true, Summary: "Analysis pages' script and style",
		Handler: ui.Assets("/analysis/assets/", static)})
}

func (s *Service) pageList(w http.ResponseWriter, r *http.Request) error {
	reps, err := s.Reports(r.Context(), Filter{RuleID: r.URL.Query().Get("rule_id"), Limit: 100})
	if err != nil {
		return err
	}
	return s.pages.list.Render(w, r, http.StatusOK, "Analysis", reps)
}

// reportView is what templates/report.html renders.
type reportView struct {
	*Report
	// Running is true while the report is not done (the page refreshes).
	Running bool
	// TargetChart is the target's chart (JSON for report.js).
	TargetChart string
	Rows        []resultRow
	AlertURL    string
	// FirstMover is the first mover's labels as text.
	FirstMover string
	// TargetVariation is the target's change against its usual variation, in words.
	TargetVariation string
}

type resultRow struct {
	Result
	Labels   string
	Spark    string // JSON: the candidate's sparkline
	Overlay  string // JSON: target and candidate in baseline units
	Features []feature
	Percent  int
	// ChangeTimes are the change points analysis/changepoint found.
	ChangeTimes []string
}

type feature struct{ Name, Value string }

// chartJSON is the data report.js draws: x (unix seconds), lines, and
// the anomaly window's start and the onset.
type chartJSON struct {
	X      []float64   `json:"x"`
	Lines  []chartLine `json:"lines"`
	From   float64     `json:"from"`
	Onset  float64     `json:"onset"`
	Marker *float64    `json:"marker,omitempty"`
}

type chartLine struct {
	Label  string      `json:"label"`
	Values rank.Values `json:"values"`
}

func (s *Service) pageReport(w http.ResponseWriter, r *http.Request) error {
	rep, err := s.Report(r.Context(), r.PathValue("id"))
	if errors.Is(err, ErrNotFound) {
		return httpapi.NotFound("%v", err)
	}
	if err != nil {
		return err
	}
	v := reportView{Report: rep, Running: rep.Status == StatusPreparing || rep.Status == StatusRunning}
	if a := rep.Request.Alert; a != nil {
		v.AlertURL = "/alerting/rules/" + a.RuleID
	}
	if sum := rep.Summary; sum != nil && rep.Status == StatusComplete {
		from, onset := unix(sum.Target.From), unix(sum.Target.Onset)
		v.TargetChart = mustJSON(chartJSON{X: sum.Times, From: from, Onset: onset,
			Lines: []chartLine{{Label: labelText(sum.Target.Labels), Values: sum.Target.Values}}})
		v.TargetVariation = rank.VariationText(sum.Target.ChangeZ)
		if sum.FirstMover != nil {
			v.FirstMover = labelText(sum.FirstMover.Labels)
		}
		mean, sd := baseline(sum.Times, sum.Target.Values, from, onset)
		tz := standardize(sum.Target.Values, mean, sd)
		for _, res := range sum.Results {
			row := resultRow{Result: res, Labels: labelText(res.Labels), Percent: int(math.Round(100 * res.Score))}
			var marker *float64
			if res.MovedAt != nil {
				m := unix(*res.MovedAt)
				marker = &m
			}
			row.Spark = mustJSON(chartJSON{X: sum.Times, From: from, Onset: onset, Marker: marker,
				Lines: []chartLine{{Values: res.Values}}})
			cm, csd := baseline(sum.Times, res.Values, from, onset)
			row.Overlay = mustJSON(chartJSON{X: sum.Times, From: from, Onset: onset, Marker: marker, Lines: []chartLine{
				{Label: "target", Values: tz}, {Label: "this signal", Values: standardize(res.Values, cm, csd)}}})
			f := res.Features
			row.Features = []feature{
				{"r (lag)", fmt.Sprintf("%.2f (%+d)", f.R, f.Lag)}, {"ρ", fmt.Sprintf("%.2f", f.Rho)},
				{"change z", rank.ZText(f.ChangeZ)}, {"Mann-Whitney p", fmt.Sprintf("%.2g", f.P)},
			}
			for _, cp := range res.Explanation.ChangePoints {
				if cp >= 0 && cp < len(sum.Times) {
					row.ChangeTimes = append(row.ChangeTimes, time.Unix(int64(sum.Times[cp]), 0).UTC().Format("15:04"))
				}
			}
			v.Rows = append(v.Rows, row)
		}
	}
	return s.pages.report.Render(w, r, http.StatusOK, "Analysis: "+rep.Title, v)
}

func unix(t interface{ UnixMilli() int64 }) float64 { return float64(t.UnixMilli()) / 1000 }

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "{}"
	}
	return string(b)
}

// baseline is the mean and standard deviation of the values between
// from and onset.
func baseline(times []float64, vs []float64, from, onset float64) (float64, float64) {
	sum, sq, n := 0.0, 0.0, 0.0
	for i, t := range times {
		if t >= from && t < onset && i < len(vs) && !math.IsNaN(vs[i]) {
			sum += vs[i]
			sq += vs[i] * vs[i]
			n++
		}
	}
	if n < 2 {
		return 0, 1
	}
	m := sum / n
	sd := math.Sqrt(max(0, sq/n-m*m))
	if sd == 0 {
		sd = 1
	}
	return m, sd
}

func standardize(vs []float64, mean, sd float64) rank.Values {
	out := make(rank.Values, len(vs))
	for i, v := range vs {
		out[i] = (v - mean) / sd
	}
	return out
}

// labelText formats labels as name{k="v", ...}.
func labelText(ls map[string]string) string {
	keys := make([]string, 0, len(ls))
	for k := range ls {
		if k != "__name__" && k != "name" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%q", k, ls[k])
	}
	name := ls["__name__"]
	if name == "" {
		name = ls["name"]
	}
	return name + "{" + strings.Join(parts, ", ") + "}"
}
