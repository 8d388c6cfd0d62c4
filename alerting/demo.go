package alerting

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gaffer-sre/gaffer/analysis/correlate/query"
)

// The demo's rules watch the metrics demo (telemetry/metrics/demo.go),
// whose three incidents recur every three days: api in eu-west-1 six
// times slower, playback in us-west-2 losing 70% of its traffic, web in
// us-east-1 failing 15% of its requests; and whose fourth goes on when
// the demo starts: a bad deploy makes web in us-east-1 fail a tenth of
// its requests, so WebErrors fires (and pages, which the events demo
// routes to a runbook) and ErrorRatio fires under its inhibition, while
// ApiLatencyHigh and TrafficDrop stay quiet. Each kind of rule is there:
// a smoothing band over PromQL, a Prometheus-style threshold, and an
// Atlas expression with :rolling-count.
var demoRules = []struct {
	id   string
	spec Spec
}{
	{"demo-api-latency", Spec{Name: "ApiLatencyHigh", Group: "demo",
		Description:  "p90 latency far above what double exponential smoothing expects (Atlas's sdes-slower preset)",
		PromQL:       `histogram_quantile(0.9, sum by (job, region, le) (rate(http_request_duration_seconds_bucket[5m])))`,
		For:          Duration(3 * time.Minute),
		Condition:    &Condition{DES: &DESBand{Preset: "sdes-slower", MaxPercent: 1, Direction: "above"}},
		Labels:       map[string]string{"severity": "page", "team": "{{ $labels.job }}"},
		Annotations:  map[string]string{"summary": "p90 latency of {{ $labels.job }} in {{ $labels.region }} is {{ $value | humanizeDuration }}"},
		Notification: &Notification{GroupBy: []string{"alertname", "region"}, GroupWait: Duration(10 * time.Second)},
		Analysis: &AnalysisScope{Candidates: demoScope,
			Lookback: Duration(3 * time.Hour)}}},
	{"demo-playback-traffic", Spec{Name: "TrafficDrop", Group: "demo",
		Description: "requests well under the smoothed prediction for three of the last five minutes",
		PromQL:      `sum by (job, region) (rate(http_requests_total[5m]))`,
		Condition: &Condition{DES: &DESBand{Preset: "sdes-slower", MinPercent: 0.4, Direction: "below"},
			RollingCount: &RollingCount{N: 3, M: 5}},
		Labels:      map[string]string{"severity": "page"},
		Annotations: map[string]string{"summary": "{{ $labels.job }} in {{ $labels.region }} serves {{ $value | humanize }} requests/s, far under the usual"},
		Analysis: &AnalysisScope{Candidates: demoScope,
			Lookback: Duration(3 * time.Hour)}}},
	{"demo-web-errors-atlas", Spec{Name: "WebErrors", Group: "demo",
		Description: "Atlas alert: more than 300 failed requests a minute in three of the last five minutes",
		Atlas:       "name,http_requests_total,:eq,code,500,:eq,:and,(,job,region,),:by,:derivative,0,:clamp-min,300,:gt,5,:rolling-count,3,:ge",
		Labels:      map[string]string{"severity": "page"},
		Annotations: map[string]string{"summary": "{{ $labels.job }} in {{ $labels.region }} fails requests"},
		// One notification per service and region, soon: the events demo
		// restarts the service it names.
		Notification: &Notification{GroupBy: []string{"alertname", "job", "region"}, GroupWait: Duration(10 * time.Second)},
		Analysis: &AnalysisScope{Candidates: demoScope,
			Lookback: Duration(3 * time.Hour)}}},
	{"demo-web-error-ratio", Spec{Name: "ErrorRatio", Group: "demo",
		Description: "Prometheus-style: more than 5% of requests fail for 2 minutes",
		PromQL:      `sum by (job, region) (rate(http_requests_total{code="500"}[5m])) / sum by (job, region) (rate(http_requests_total[5m])) > 0.05`,
		For:         Duration(2 * time.Minute),
		Labels:      map[string]string{"severity": "ticket"},
		Annotations: map[string]string{"summary": "{{ $value | humanizePercentage }} of {{ $labels.job }} requests fail in {{ $labels.region }}"}}},
}

// demoScope is the demo's candidates: the per-second rate of every
// counter of the alert's region, the metric's name kept in the metric
// label (rate drops __name__, and series of different counters would
// otherwise collide).
const demoScope = `rate(label_replace({region="{{ $labels.region }}", __name__=~"http_.+_total|http_.+_(sum|count|bucket)|process_cpu_seconds_total"},` +
	` "metric", "$1", "__name__", "(.+)")[5m:1m])`

// demoHistory is how far back the demo's rules are evaluated when first
// loaded: the metrics demo's three days, each incident once.
const demoHistory = 3 * 24 * time.Hour

// demoSilence mutes a quiet rule where a drill is planned, so that the
// Silences page shows one at work.
var demoSilence = SilenceSpec{Matchers: []string{`alertname="TrafficDrop"`, `region="us-west-2"`}, Duration: "4h",
	Comment: "failover drill: playback traffic leaves us-west-2 on purpose tonight"}

// LoadDemo creates the demo rules, an inhibition (WebErrors mutes
// ErrorRatio for the same job and region) and a silence, and evaluates
// the rules over the demo's three days once, in the background: the
// incidents fire and resolve in the history, the one going on fires now,
// and each alert with an analysis scope gets its report. It is
// idempotent.
func (s *Service) LoadDemo(ctx context.Context) error {
	done, err := s.meta(ctx, "demo_loaded")
	if err != nil || done != "" {
		return err
	}
	var rules []*StoredRule
	for _, d := range demoRules {
		sr, _, err := s.putRule(ctx, d.id, d.spec, "demo", "demo")
		if err != nil {
			return fmt.Errorf("alerting: demo rule %s: %w", d.spec.Name, err)
		}
		rules = append(rules, sr)
	}
	if _, err := s.CreateInhibition(ctx, Inhibition{Source: []string{`alertname="WebErrors"`}, Target: []string{`alertname="ErrorRatio"`},
		Equal: []string{"job", "region"}, Comment: "the Atlas rule says it first"}, "demo"); err != nil {
		return err
	}
	if _, err := s.CreateSilence(ctx, demoSilence, "demo"); err != nil {
		return fmt.Errorf("alerting: demo silence: %w", err)
	}
	if err := s.setMeta(ctx, "demo_loaded", s.now().UTC().Format(time.RFC3339)); err != nil {
		return err
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for _, r := range rules {
			if err := s.backfill(r, demoHistory); err != nil {
				s.log.Warn("demo: evaluate the history", "rule", r.Spec.Name, "error", err)
			}
		}
		s.setMeta(context.Background(), "demo_backfilled", s.now().UTC().Format(time.RFC3339))
		s.log.Info("demo alert history evaluated")
	}()
	return nil
}

// backfill evaluates a rule over the past span as if it had run all
// along, saves the history and alerts, starts the analyses of the alerts
// that fired, and then schedules the rule.
func (s *Service) backfill(r *StoredRule, span time.Duration) error {
	d, err := s.data()
	if err != nil {
		return err
	}
	ctx := context.Background()
	every := r.every
	end := alignGrid(s.now(), every)
	state := newRuleState()
	var hist []Transition
	ex := expander{query: d.Prom, baseURL: s.base}
	const chunk = 6 * time.Hour
	for from := end.Add(-span); from.Before(end); from = from.Add(chunk) {
		if s.stop != nil {
			select {
			case <-s.stop:
				return errors.New("stopped")
			default:
			}
		}
		to := from.Add(chunk)
		if to.After(end) {
			to = end
		}
		n := int(to.Sub(from) / every)
		lb := r.Spec.Condition.lookback(every)
		g := query.Grid{Start: from.Add(-time.Duration(lb) * every), Step: every, N: n + lb}
		ss, err := r.decideRange(ctx, d, g, lb)
		if err != nil {
			return err
		}
		for i := lb; i < g.N; i++ {
			t := g.Start.Add(time.Duration(i) * every)
			samples := make([]Sample, 0, len(ss))
			for _, x := range ss {
				samples = append(samples, Sample{Labels: x.Labels, Value: x.Values[i], Active: x.Breach[i]})
			}
			hist = append(hist, state.apply(ctx, r.Rule, samples, t, ex)...)
		}
	}
	e := &entry{rule: r, state: state, tried: map[string]bool{}}
	changed := s.analyseHistory(ctx, r, hist, state, end)
	s.saver.add(copyAlerts(append(mapValues(state.alerts), changed...)), nil, hist)
	if err := s.saver.flush(ctx); err != nil {
		return err
	}
	// The alerts firing at the end go to the dispatcher now, not at the
	// rule's next evaluation, so that they are notified a group wait
	// after the history is evaluated.
	s.disp.update(r, copyAlerts(mapValues(state.alerts)), end)
	s.sched.put(r, mapValues(e.state.alerts), "")
	return nil
}

// analyseHistory starts an analysis for every alert of hist that fired,
// over its time active, and returns the alerts still held it linked.
func (s *Service) analyseHistory(ctx context.Context, r *StoredRule, hist []Transition, state *ruleState, end time.Time) []*Alert {
	if r.Spec.Analysis == nil {
		return nil
	}
	an, ok := s.analysis()
	if !ok {
		return nil
	}
	var out []*Alert
	active := map[string]Transition{}
	for i, t := range hist {
		switch t.To {
		case StatePending:
			active[t.Fingerprint] = t
		case StateFiring:
			start := active[t.Fingerprint].At
			stop := end
			for _, u := range hist[i+1:] {
				if u.Fingerprint == t.Fingerprint && u.To == StateResolved {
					stop = u.At
					break
				}
			}
			a := &Alert{RuleID: r.ID, Fingerprint: t.Fingerprint, Labels: t.Labels, SeriesLabels: seriesLabels(r, t.Labels), ActiveAt: start}
			req, err := analysisRequest(r.Rule, a, start, stop)
			if err != nil {
				continue
			}
			id, err := an.Analyze(ctx, req, "alerting")
			if err != nil {
				s.log.Warn("demo: analyse an alert of the history", "rule", r.ID, "error", err)
				continue
			}
			if cur, ok := state.alerts[t.Fingerprint]; ok && cur.ActiveAt.Equal(start) {
				cur.ReportID = id
				out = append(out, cur)
			}
		}
	}
	return out
}

// seriesLabels recovers a series' labels from an alert's: without the
// rule's labels and alertname.
func seriesLabels(r *StoredRule, ls map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range ls {
		if _, ok := r.Spec.Labels[k]; !ok && k != "alertname" {
			out[k] = v
		}
	}
	return out
}
