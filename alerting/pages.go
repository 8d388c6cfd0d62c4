package alerting

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/gaffer-sre/gaffer/analysis/correlate/correlateapi"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
	"github.com/gaffer-sre/gaffer/internal/platform/ui"
)

//go:embed templates/*.html
var templates embed.FS

//go:embed assets
var assets embed.FS

type pages struct {
	rules, rule, silences *ui.Page
}

// Pages registers the rules, rule and silences pages.
func (s *Service) Pages(sh *ui.Shell) {
	s.pages = &pages{rules: sh.Parse(templates, "templates/rules.html"), rule: sh.Parse(templates, "templates/rule.html"),
		silences: sh.Parse(templates, "templates/silences.html")}
	sh.Nav(ui.NavItem{Title: "Alerting", Path: "/alerting", Scope: ReadScope, Order: 250})
	sh.Handle(httpapi.Route{Method: "GET", Path: "/alerting", Scope: ReadScope, Summary: "Alert rules and firing alerts", Handler: s.pageRules})
	sh.Handle(httpapi.Route{Method: "GET", Path: "/alerting/rules/{id}", Scope: ReadScope, Summary: "An alert rule: chart, alerts, history", Handler: s.pageRule})
	sh.Handle(httpapi.Route{Method: "GET", Path: "/alerting/silences", Scope: ReadScope, Summary: "Silences", Handler: s.pageSilences})
	sh.Handle(httpapi.Route{Method: "POST", Path: "/alerting/silences", Scope: WriteScope, Action: "alerting.silence.create",
		Summary: "Create a silence from the form", Handler: s.pageCreateSilence})
	sh.Handle(httpapi.Route{Method: "POST", Path: "/alerting/silences/{id}/expire", Scope: WriteScope, Action: "alerting.silence.expire",
		Summary: "Expire a silence from the page", Handler: s.pageExpireSilence})
	static, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(fmt.Sprintf("alerting: embedded assets: %v", err))
	}
	sh.Handle(httpapi.Route{Method: "GET", Path: "/alerting/assets/", Public: true, Summary: "Alerting pages' script and style",
		Handler: ui.Assets("/alerting/assets/", static)})
}

// rulesView is templates/rules.html's data.
type rulesView struct {
	Rules  []RuleView
	Alerts []*Alert
	Names  map[string]string
	Status Status
}

func (s *Service) pageRules(w http.ResponseWriter, r *http.Request) error {
	rules, err := s.Rules(r.Context())
	if err != nil {
		return err
	}
	v := rulesView{Rules: rules, Names: map[string]string{}, Status: Status{Rules: len(rules), Lag: s.sched.lags.summary()}}
	for _, rv := range rules {
		v.Names[rv.ID] = rv.Spec.Name
	}
	for _, a := range s.Alerts("", "") {
		if a.State != StateResolved {
			v.Alerts = append(v.Alerts, a)
		}
	}
	return s.pages.rules.Render(w, r, http.StatusOK, "Alerting", v)
}

// ruleView is templates/rule.html's data.
type ruleView struct {
	RuleView
	SpecJSON  string
	Condition string
	Chart     string
	ChartErr  string
	From, To  string
	Timeline  []timelineRow
	Alerts    []*Alert
	History   []Transition
	Reports   []correlateapi.Report
}

// timelineRow is one alert's states over the chart's range, as
// segments in percent of its width.
type timelineRow struct {
	Labels   string
	Segments []segment
}

type segment struct {
	State       string
	Left, Width float64
	From, To    string
}

func (s *Service) pageRule(w http.ResponseWriter, r *http.Request) error {
	sr, err := s.getRule(r.Context(), r.PathValue("id"))
	if errors.Is(err, ErrNotFound) {
		return httpapi.NotFound("%v", err)
	}
	if err != nil {
		return err
	}
	q := r.URL.Query()
	now := s.now()
	end, err := parseTime(q.Get("e"), now, 0)
	if err != nil {
		end = now
	}
	start, err := parseTime(q.Get("s"), end, 6*time.Hour)
	if err != nil || !start.Before(end) {
		start = end.Add(-6 * time.Hour)
	}
	v := ruleView{RuleView: s.view(sr), From: q.Get("s"), To: q.Get("e")}
	spec, _ := json.MarshalIndent(sr.Spec, "", "  ")
	v.SpecJSON = string(spec)
	if c := sr.Spec.Condition; c != nil {
		b, _ := json.Marshal(c)
		v.Condition = string(b)
	} else if sr.implied != nil {
		v.Condition = fmt.Sprintf("%s %s %v", sr.ValueExpr(), sr.implied.Op, sr.implied.Value)
	}
	if c, err := s.RuleChart(r.Context(), sr.ID, start, end); err != nil {
		v.ChartErr = err.Error()
	} else {
		total := len(c.Series)
		c.Series = chartSeriesShown(c.Series, maxChartLines)
		b, _ := json.Marshal(struct {
			*Chart
			Total int `json:"total"`
		}{c, total})
		v.Chart = string(b)
	}
	v.Alerts = s.Alerts(sr.ID, "")
	if v.History, err = s.History(r.Context(), sr.ID, start, 10_000); err != nil {
		return err
	}
	v.Timeline = timeline(v.History, v.Alerts, start, end)
	if len(v.History) > 100 {
		v.History = v.History[len(v.History)-100:]
	}
	if an, ok := s.analysis(); ok {
		v.Reports, _ = an.Reports(r.Context(), correlateapi.Filter{RuleID: sr.ID, Limit: 20})
	}
	return s.pages.rule.Render(w, r, http.StatusOK, sr.Spec.Name, v)
}

// timeline turns transitions into each alert's pending and firing spans
// over [start, end].
func timeline(hist []Transition, current []*Alert, start, end time.Time) []timelineRow {
	type span struct {
		state    State
		from, to time.Time
	}
	spans := map[string][]span{}
	labels := map[string]string{}
	open := map[string]*span{}
	for _, t := range hist {
		labels[t.Fingerprint] = labelKey(t.Labels)
		if o := open[t.Fingerprint]; o != nil {
			o.to = t.At
			spans[t.Fingerprint] = append(spans[t.Fingerprint], *o)
			delete(open, t.Fingerprint)
		}
		if t.To == StatePending || t.To == StateFiring {
			open[t.Fingerprint] = &span{state: t.To, from: t.At}
		}
	}
	for _, a := range current {
		if o := open[a.Fingerprint]; o != nil && (a.State == StatePending || a.State == StateFiring) {
			o.to = end
			spans[a.Fingerprint] = append(spans[a.Fingerprint], *o)
			delete(open, a.Fingerprint)
		}
	}
	for fp, o := range open { // restarted without the alert: up to the end
		o.to = end
		spans[fp] = append(spans[fp], *o)
	}
	total := end.Sub(start).Seconds()
	var out []timelineRow
	for fp, ss := range spans {
		row := timelineRow{Labels: labels[fp]}
		for _, sp := range ss {
			from, to := max(sp.from.Sub(start).Seconds(), 0), min(sp.to.Sub(start).Seconds(), total)
			if to <= from {
				continue
			}
			row.Segments = append(row.Segments, segment{State: string(sp.state), Left: 100 * from / total,
				Width: max(100*(to-from)/total, 0.3), From: sp.from.UTC().Format("15:04:05"), To: sp.to.UTC().Format("15:04:05")})
		}
		if len(row.Segments) > 0 {
			out = append(out, row)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Labels < out[j].Labels })
	return out
}

// silencesView is templates/silences.html's data.
type silencesView struct {
	Silences []*Silence
	Error    string
	Form     SilenceForm
}

// SilenceForm is the silence form's values.
type SilenceForm struct {
	Matchers, Duration, Comment string
}

func (s *Service) pageSilences(w http.ResponseWriter, r *http.Request) error {
	return s.renderSilences(w, r, http.StatusOK, silencesView{Form: SilenceForm{Duration: "2h", Matchers: r.URL.Query().Get("matchers")}})
}

func (s *Service) renderSilences(w http.ResponseWriter, r *http.Request, status int, v silencesView) error {
	sils, err := s.Silences(r.Context(), true)
	if err != nil {
		return err
	}
	v.Silences = sils
	return s.pages.silences.Render(w, r, status, "Silences", v)
}

func (s *Service) pageCreateSilence(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return httpapi.BadRequest("form: %v", err)
	}
	f := SilenceForm{Matchers: r.PostForm.Get("matchers"), Duration: r.PostForm.Get("duration"), Comment: r.PostForm.Get("comment")}
	var ms []string
	for _, line := range strings.Split(f.Matchers, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			ms = append(ms, line)
		}
	}
	sil, err := s.CreateSilence(r.Context(), SilenceSpec{Matchers: ms, Duration: f.Duration, Comment: f.Comment}, actor(r))
	if err != nil {
		return s.renderSilences(w, r, http.StatusBadRequest, silencesView{Error: err.Error(), Form: f})
	}
	httpapi.SetAuditTarget(r, "silence:"+sil.ID)
	http.Redirect(w, r, "/alerting/silences", http.StatusSeeOther)
	return nil
}

func (s *Service) pageExpireSilence(w http.ResponseWriter, r *http.Request) error {
	sil, err := s.ExpireSilence(r.Context(), r.PathValue("id"))
	if err != nil {
		return apiError(err)
	}
	httpapi.SetAuditTarget(r, "silence:"+sil.ID)
	http.Redirect(w, r, "/alerting/silences", http.StatusSeeOther)
	return nil
}

// maxChartLines is how many series a rule's chart draws, each with its
// threshold or band; more make a legend nobody reads.
const maxChartLines = 6

// chartSeriesShown picks the at most max series a rule's chart draws: the
// series where the condition held first, then those with data, each in
// the rule's order. Series without any value are left out.
func chartSeriesShown(series []ChartSeries, max int) []ChartSeries {
	rank := func(s ChartSeries) int {
		if slices.Contains(s.Breach, true) {
			return 0
		}
		return 1
	}
	out := make([]ChartSeries, 0, len(series))
	for _, s := range series {
		if slices.ContainsFunc(s.Values, func(v float64) bool { return !math.IsNaN(v) }) {
			out = append(out, s)
		}
	}
	slices.SortStableFunc(out, func(a, b ChartSeries) int { return rank(a) - rank(b) })
	if len(out) > max {
		out = out[:max]
	}
	return out
}
