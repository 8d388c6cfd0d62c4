package alerting

import (
	"context"
	"math"
	"slices"
	"sort"
	"sync"
	"time"
)

// evaluate runs one evaluation of a rule: it moves its alerts on, hands
// the changes to the saver and the dispatcher, and starts analyses. A
// failing rule keeps its alerts and records the error; it stops no other
// rule.
func (s *Service) evaluate(e *entry) {
	e.mu.Lock()
	r, t, due := e.rule, e.next, e.due
	e.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), evalTimeout(r.every))
	defer cancel()
	started := s.now()
	var samples []Sample
	data, err := s.data()
	if err == nil {
		samples, err = r.Evaluate(ctx, data, t)
	}
	done := s.now()
	lag := done.Sub(due)
	s.sched.lags.add(lag)

	e.mu.Lock()
	defer e.mu.Unlock()
	if e.removed {
		return
	}
	h := &e.health
	h.LastEval, h.Duration, h.LastLag = t, done.Sub(started), lag
	h.Evaluations++
	if err != nil {
		if h.Error == "" {
			since := t
			h.ErrorSince = &since
		}
		if h.Error != err.Error() {
			h.Error = err.Error()
			h.storedErrSet = true
			go s.setRuleError(context.Background(), r.ID, h.Error, t)
		}
		return
	}
	if h.Error != "" || h.storedErrSet {
		h.Error, h.ErrorSince, h.storedErrSet = "", nil, false
		go s.setRuleError(context.Background(), r.ID, "", t)
	}
	before := make(map[string]bool, len(e.state.alerts))
	for fp := range e.state.alerts {
		before[fp] = true
	}
	ts := e.state.apply(ctx, r.Rule, samples, t, expander{query: data.Prom, baseURL: s.base})
	changed := s.startAnalyses(ctx, e, r, t, data)
	var gone []*Alert
	for fp := range before {
		if _, ok := e.state.alerts[fp]; !ok {
			gone = append(gone, &Alert{RuleID: r.ID, Fingerprint: fp})
		}
	}
	for _, tr := range ts {
		if a, ok := e.state.alerts[tr.Fingerprint]; ok && !slices.Contains(changed, a) {
			changed = append(changed, a)
		}
	}
	if len(changed) > 0 || len(gone) > 0 || len(ts) > 0 {
		s.saver.add(copyAlerts(changed), gone, ts)
	}
	s.disp.update(r, copyAlerts(mapValues(e.state.alerts)), t)
}

func mapValues(m map[string]*Alert) []*Alert {
	out := make([]*Alert, 0, len(m))
	for _, a := range m {
		out = append(out, a)
	}
	return out
}

func copyAlerts(as []*Alert) []*Alert {
	out := make([]*Alert, len(as))
	for i, a := range as {
		c := *a
		out[i] = &c
	}
	return out
}

// lagStats keeps the evaluation lags of the last minutes, for the
// status API and the benchmark: how long after its due time each
// evaluation completed.
type lagStats struct {
	mu    sync.Mutex
	lags  []time.Duration
	next  int
	count int64
	full  bool
}

const lagWindow = 50_000

func newLagStats() *lagStats { return &lagStats{lags: make([]time.Duration, lagWindow)} }

func (l *lagStats) add(d time.Duration) {
	l.mu.Lock()
	l.lags[l.next] = d
	l.next = (l.next + 1) % len(l.lags)
	l.full = l.full || l.next == 0
	l.count++
	l.mu.Unlock()
}

// LagSummary summarises recent evaluation lags.
type LagSummary struct {
	Evaluations int64         `json:"evaluations"`
	Window      int           `json:"window"`
	P50         time.Duration `json:"p50_ns"`
	P99         time.Duration `json:"p99_ns"`
	Max         time.Duration `json:"max_ns"`
}

func (l *lagStats) summary() LagSummary {
	l.mu.Lock()
	n := l.next
	if l.full {
		n = len(l.lags)
	}
	xs := append([]time.Duration(nil), l.lags[:n]...)
	out := LagSummary{Evaluations: l.count, Window: n}
	l.mu.Unlock()
	if n == 0 {
		return out
	}
	sort.Slice(xs, func(i, j int) bool { return xs[i] < xs[j] })
	q := func(p float64) time.Duration { return xs[int(math.Ceil(p*float64(n)))-1] }
	out.P50, out.P99, out.Max = q(0.5), q(0.99), xs[n-1]
	return out
}
