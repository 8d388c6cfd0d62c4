package alerting

import (
	"bytes"
	"context"
	"text/template"
	"time"

	"github.com/gaffer-sre/gaffer/analysis/correlate/correlateapi"
)

// startAnalyses starts the analysis of every alert of the rule that has
// fired and been active for the scope's delay, once per alert, and
// returns the alerts it linked to a report. It runs with e locked.
func (s *Service) startAnalyses(ctx context.Context, e *entry, r *StoredRule, t time.Time, _ Data) []*Alert {
	scope := r.Spec.Analysis
	if scope == nil {
		return nil
	}
	delay := scope.Delay.D()
	if scope.Delay == 0 {
		delay = defaultDelay
	}
	var out []*Alert
	for fp, a := range e.state.alerts {
		if a.State != StateFiring || e.tried[fp] || t.Sub(a.ActiveAt) < delay {
			continue
		}
		e.tried[fp] = true
		an, ok := s.analysis()
		if !ok {
			s.log.Warn("alert fired with an analysis scope, but the analysis system does not run in this process", "rule", r.ID)
			continue
		}
		req, err := analysisRequest(r.Rule, a, a.ActiveAt, t)
		if err == nil {
			a.ReportID, err = an.Analyze(ctx, req, "alerting")
		}
		if err != nil {
			s.log.Warn("start the analysis of an alert", "rule", r.ID, "alert", fp, "error", err)
			continue
		}
		out = append(out, a)
	}
	return out
}

// analysisRequest is the analysis of alert a over [start, end): the
// rule's values for the alert's series against the scope's candidates.
func analysisRequest(r *Rule, a *Alert, start, end time.Time) (correlateapi.Request, error) {
	scope := r.Spec.Analysis
	cands, err := expandLabels(scope.Candidates, a.SeriesLabels)
	if err != nil {
		return correlateapi.Request{}, err
	}
	lookback := scope.Lookback.D()
	if lookback == 0 {
		lookback = defaultHistory
	}
	engine := scope.Engine
	if engine == "" {
		engine = EnginePromQL
	}
	maxLag := scope.MaxLag
	req := correlateapi.Request{
		Target:     correlateapi.Query{Query: r.ValueExpr(), Engine: r.Engine(), Labels: a.SeriesLabels},
		Candidates: correlateapi.Query{Query: cands, Engine: engine},
		Start:      start, End: end, Lookback: lookback.String(), Step: r.every.String(),
		Title: r.Spec.Name + " " + labelKey(a.SeriesLabels),
		Alert: &correlateapi.AlertRef{RuleID: r.ID, Fingerprint: a.Fingerprint, Name: r.Spec.Name},
	}
	req.Params.MaxLag = maxLag
	return req, nil
}

// expandLabels fills a scope's template with the series' labels
// ({{ $labels.region }}, {{ .Labels.region }}).
func expandLabels(text string, ls map[string]string) (string, error) {
	tmpl, err := template.New("candidates").Option("missingkey=zero").Parse("{{$labels := .Labels}}" + text)
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	if err := tmpl.Execute(&b, struct{ Labels map[string]string }{ls}); err != nil {
		return "", err
	}
	return b.String(), nil
}
