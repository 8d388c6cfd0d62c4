package remediation

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/gaffer-sre/gaffer/telemetry/metrics/metricsapi"

	"github.com/nats-io/nats.go"

	"github.com/gaffer-sre/gaffer/analysis/changepoint/detect"
	"github.com/gaffer-sre/gaffer/analysis/correlate/rank"
	"github.com/gaffer-sre/gaffer/internal/platform/bus"
	"github.com/gaffer-sre/gaffer/internal/platform/egress"
	"github.com/gaffer-sre/gaffer/remediation/agent"
	"github.com/gaffer-sre/gaffer/telemetry/prom"
)

// agent dispatches one item of an agent step to its agent. The result
// arrives later (see agents.onResult).
func (r *stepRun) agent(ctx context.Context) outcome {
	name := r.st.Agent
	var d struct {
		Params json.RawMessage `json:"params"`
	}
	json.Unmarshal(r.st.Detail, &d)
	pj := d.Params
	if len(pj) == 0 {
		pj = json.RawMessage("{}")
	}
	runID := fmt.Sprintf("%s.%d.%s", r.ex.ID, r.st.Attempt, strings.NewReplacer("[", "-", "]", "", "#", "-").Replace(r.st.Key))
	boot := r.e.s.agents.boot(name)
	if _, err := r.e.db.ExecContext(ctx, `UPDATE remediation_steps SET run_id = ?, agent_boot = ? WHERE execution_id = ? AND step_key = ? AND attempt = ?`,
		runID, boot, r.ex.ID, r.st.Key, r.st.Attempt); err != nil {
		return failed(err)
	}
	reply, err := r.e.s.agents.run(ctx, name, boot, agent.RunRequest{Run: runID, Action: r.cs.Action, Params: pj, Timeout: r.cs.timeout})
	switch {
	case errors.Is(err, nats.ErrNoResponders):
		return failed(fmt.Errorf("agent %s is not connected", name))
	case errors.Is(err, errRunNotStarted):
		return failed(err)
	case err != nil:
		return r.unknown(ctx, fmt.Sprintf("no answer from agent %s to run %s (%v): it may or may not have started", name, runID, err))
	case !reply.Accepted:
		return outcome{status: StepFailed, err: "agent " + name + " refused: " + reply.Error, noRetry: true}
	}
	r.e.s.agents.track(runID, r.ex.ID, r.st.Key)
	r.e.scheduleTimeout(ctx, r.ex.ID, r.st.Key, r.st.Attempt, r.cs.timeout+agentGrace)
	return parked
}

// agentGrace is how long past a step's timeout the server waits for the
// agent's own timeout to report.
const agentGrace = 15 * time.Second

// unknown marks a step whose outcome cannot be known: an idempotent step
// runs again (up to maxLostRuns times, then fails and its retry policy
// applies); any other waits for an operator.
func (r *stepRun) unknown(ctx context.Context, why string) outcome {
	if r.cs.idempotent {
		if again, err := r.e.runLostAgain(ctx, r.ex.ID, r.st.Key, r.st.Attempt, why); err == nil && again {
			return parked // the new attempt carries the step
		}
		return outcome{status: StepFailed, err: why}
	}
	if err := r.e.markUnknown(ctx, r.ex.ID, r.st.Key, r.st.Attempt, why); err != nil {
		return failed(err)
	}
	return parked
}

func (r *stepRun) http(ctx context.Context) outcome {
	u, err := r.cs.url.evalString(r.vars)
	if err != nil {
		return failed(fmt.Errorf("url: %w", err))
	}
	method := r.cs.Method
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	contentType := ""
	if r.cs.body != nil {
		v, err := r.cs.body.eval(r.vars)
		if err != nil {
			return failed(fmt.Errorf("body: %w", err))
		}
		if s, ok := v.(string); ok {
			body = strings.NewReader(s)
		} else {
			b, _ := json.Marshal(v)
			body, contentType = bytes.NewReader(b), "application/json"
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return outcome{status: StepFailed, err: err.Error(), noRetry: true}
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("User-Agent", "gaffer-remediation")
	if r.cs.headers != nil {
		h, err := r.cs.headers.eval(r.vars)
		if err != nil {
			return failed(fmt.Errorf("headers: %w", err))
		}
		for k, v := range h.(map[string]any) {
			req.Header.Set(k, fmt.Sprint(v))
		}
	}
	resp, err := r.e.s.httpClient.Do(req)
	if de := (*egress.DeniedError)(nil); errors.As(err, &de) {
		// Retrying cannot help: the operator must allow the address.
		return outcome{status: StepFailed, err: fmt.Sprintf("%s %s: %v", method, u, de), noRetry: true}
	}
	if err != nil {
		return failed(fmt.Errorf("%s %s: %w", method, u, err))
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxOutputBytes/2))
	if err != nil {
		return failed(fmt.Errorf("%s %s: read answer: %w", method, u, err))
	}
	out := map[string]any{"status": resp.StatusCode, "headers": flatHeaders(resp.Header)}
	var j any
	if json.Unmarshal(b, &j) == nil {
		out["body"] = j
	} else {
		out["body"] = string(b)
	}
	ok := resp.StatusCode >= 200 && resp.StatusCode < 300
	if len(r.cs.Expect) > 0 {
		ok = false
		for _, s := range r.cs.Expect {
			ok = ok || s == resp.StatusCode
		}
	}
	if !ok {
		return outcome{status: StepFailed, output: out, err: fmt.Sprintf("%s %s: status %d", method, u, resp.StatusCode)}
	}
	return succeeded(out)
}

func flatHeaders(h http.Header) map[string]string {
	out := map[string]string{}
	for k, v := range h {
		out[k] = strings.Join(v, ", ")
	}
	return out
}

func (r *stepRun) querier() (metricsapi.Querier, error) {
	return metricsapi.From(r.e.s.deps)
}

func (r *stepRun) metrics(ctx context.Context) outcome {
	q, err := r.querier()
	if err != nil {
		return outcome{status: StepFailed, err: err.Error(), noRetry: true}
	}
	query, err := renderString(r.cs.Query, r.vars)
	if err != nil {
		return failed(err)
	}
	var res prom.Result
	if r.cs.Range == nil {
		res, err = q.Query(ctx, query, r.e.s.now())
	} else {
		start, end, step, perr := parseRange(r.cs.Range, r.e.s.now())
		if perr != nil {
			return outcome{status: StepFailed, err: perr.Error(), noRetry: true}
		}
		res, err = q.QueryRange(ctx, query, start, end, step)
	}
	if err != nil {
		return failed(err)
	}
	return succeeded(resultOutput(res))
}

// renderString expands ${{ }} templates in a string field.
func renderString(s string, vars map[string]any) (string, error) {
	t, probs := compileTmpl(s, "")
	if len(probs) > 0 {
		return "", errors.New(probs[0].Message)
	}
	return t.evalString(vars)
}

func parseRange(rg *Range, now time.Time) (time.Time, time.Time, time.Duration, error) {
	at := func(s string) (time.Time, error) {
		if s == "" || s == "now" {
			return now, nil
		}
		if strings.HasPrefix(s, "-") {
			d, err := time.ParseDuration(s[1:])
			return now.Add(-d), err
		}
		return time.Parse(time.RFC3339, s)
	}
	start, err := at(rg.Start)
	if err != nil {
		return start, start, 0, fmt.Errorf("range.start %q: want -DURATION, now or RFC 3339", rg.Start)
	}
	end, err := at(rg.End)
	if err != nil {
		return start, end, 0, fmt.Errorf("range.end %q: want -DURATION, now or RFC 3339", rg.End)
	}
	step := time.Minute
	if rg.Step != "" {
		step, _ = time.ParseDuration(rg.Step)
	}
	if !end.After(start) || step <= 0 || end.Sub(start)/step > 11000 {
		return start, end, step, errors.New("range: end must be after start, with at most 11000 steps")
	}
	return start, end, step, nil
}

// resultOutput is a query result as steps see it: series with labels and
// [time, value] points, and "values" of the first series for analysis.
func resultOutput(res prom.Result) map[string]any {
	series := make([]any, 0, len(res.Series))
	var first []any
	for i, s := range res.Series {
		labels := map[string]any{}
		for _, l := range s.Labels {
			labels[l.Name] = l.Value
		}
		pts := make([]any, 0, len(s.Points))
		vals := make([]any, 0, len(s.Points))
		for _, p := range s.Points {
			pts = append(pts, []any{float64(p.T) / 1000, p.V})
			vals = append(vals, p.V)
		}
		if i == 0 {
			first = vals
		}
		series = append(series, map[string]any{"labels": labels, "points": pts, "values": vals})
	}
	out := map[string]any{"type": res.Type, "series": series, "values": first}
	if len(res.Series) == 1 && len(first) == 1 {
		out["value"] = first[0]
	}
	return out
}

func (r *stepRun) changepoint(ctx context.Context) outcome {
	xs, bad := r.numbers("series", r.cs.series)
	if bad != nil {
		return *bad
	}
	sig, err := detect.NewSeries(xs)
	if err != nil {
		return outcome{status: StepFailed, err: err.Error(), noRetry: true}
	}
	p := detect.Params{Method: r.cs.Algorithm, Cost: r.cs.Cost, Pen: r.cs.Penalty, NBkps: r.cs.NBkps}
	if p.Method == "" {
		p.Method = "pelt"
	}
	if p.Cost == "" {
		p.Cost = "l2"
	}
	if p.Pen == nil && p.NBkps == nil {
		pen := 3 * math.Log(float64(max(len(xs), 2)))
		p.Pen = &pen
	}
	bkps, err := detect.Detect(ctx, sig, p)
	if err != nil {
		return outcome{status: StepFailed, err: err.Error(), noRetry: true}
	}
	changes := bkps
	if len(changes) > 0 && changes[len(changes)-1] == len(xs) {
		changes = changes[:len(changes)-1]
	}
	return succeeded(map[string]any{"breakpoints": bkps, "change_points": changes, "changed": len(changes) > 0, "n": len(xs)})
}

func (r *stepRun) publish(ctx context.Context) outcome {
	v, err := r.cs.event.eval(r.vars)
	if err != nil {
		return failed(fmt.Errorf("event: %w", err))
	}
	m := v.(map[string]any)
	ev := &bus.Event{Type: fmt.Sprint(m["type"]), Source: fmt.Sprint(m["source"]),
		ID: fmt.Sprintf("%s.%s.%d", r.ex.ID, r.st.Key, r.st.Attempt)}
	if ev.Source == "" || ev.Source == "<nil>" {
		ev.Source = "/gaffer/remediation/" + r.ex.Runbook
	}
	if s, _ := m["subject"].(string); s != "" {
		ev.Subject = s
	}
	if d := m["data"]; d != nil {
		b, _ := json.Marshal(d)
		ev.Data = b
	}
	if _, err := r.e.s.bus.Publish(ctx, ev); err != nil {
		return failed(err)
	}
	return succeeded(map[string]any{"id": ev.ID, "type": ev.Type, "source": ev.Source})
}

func (r *stepRun) approval(ctx context.Context) outcome {
	q, err := renderString(r.cs.Question, r.vars)
	if err != nil {
		return failed(err)
	}
	detail := map[string]any{"question": q, "approvers": r.cs.Approvers}
	if len(r.cs.Answer) > 0 {
		detail["answer_schema"] = json.RawMessage(r.cs.Answer)
	}
	return r.park(ctx, r.cs.expires, wakeExpire, detail)
}

// numbers evaluates an expression that must give a list of numbers.
func (r *stepRun) numbers(field string, e *expr) ([]float64, *outcome) {
	v, err := e.eval(r.vars)
	if err != nil {
		o := failed(fmt.Errorf("%s: %w", field, err))
		return nil, &o
	}
	return toNumbers(field, v)
}

func toNumbers(field string, v any) ([]float64, *outcome) {
	list, ok := v.([]any)
	if !ok {
		return nil, &outcome{status: StepFailed, err: fmt.Sprintf("%s: want a list of numbers, got %s", field, short(v)), noRetry: true}
	}
	xs := make([]float64, 0, len(list))
	for i, e := range list {
		switch n := e.(type) {
		case float64:
			xs = append(xs, n)
		case int64:
			xs = append(xs, float64(n))
		default:
			return nil, &outcome{status: StepFailed, err: fmt.Sprintf("%s[%d]: want a number, got %s", field, i, short(e)), noRetry: true}
		}
	}
	return xs, nil
}

// correlate ranks candidate series by how they moved with the target
// over the anomaly window (analysis/correlate).
func (r *stepRun) correlate(ctx context.Context) outcome {
	target, bad := r.numbers("series", r.cs.series)
	if bad != nil {
		return *bad
	}
	cv, err := r.cs.candidates.eval(r.vars)
	if err != nil {
		return failed(fmt.Errorf("candidates: %w", err))
	}
	cm, ok := cv.(map[string]any)
	if !ok {
		return outcome{status: StepFailed, err: "candidates: want a map of name to a list of numbers", noRetry: true}
	}
	names := make([]string, 0, len(cm))
	for name := range cm {
		names = append(names, name)
	}
	sort.Strings(names)
	cands := make([][]float64, len(names))
	for i, name := range names {
		if cands[i], bad = toNumbers("candidates."+name, cm[name]); bad != nil {
			return *bad
		}
		if len(cands[i]) != len(target) {
			return outcome{status: StepFailed, noRetry: true,
				err: fmt.Sprintf("candidates.%s: %d values; the series has %d", name, len(cands[i]), len(target))}
		}
	}
	wv, err := r.cs.window.eval(r.vars)
	if err != nil {
		return failed(fmt.Errorf("window: %w", err))
	}
	wm := wv.(map[string]any)
	start, ok1 := whole(wm["start"])
	end, ok2 := whole(wm["end"])
	if !ok1 || !ok2 {
		return outcome{status: StepFailed, err: fmt.Sprintf("window: want whole numbers, got %s", short(wm)), noRetry: true}
	}
	t, err := rank.NewTarget(target, rank.Window{Start: int(start), End: int(end)}, rank.Params{})
	if err != nil {
		return outcome{status: StepFailed, err: err.Error(), noRetry: true}
	}
	res, err := rank.Rank(ctx, t, cands, 0)
	if err != nil {
		return failed(err)
	}
	ranked := make([]any, 0, len(res))
	for _, x := range res {
		ranked = append(ranked, map[string]any{"name": names[x.Index], "score": x.Score, "lag": x.Lag, "r": x.R,
			"change": x.Change, "effect": x.Effect, "p": x.P})
	}
	out := map[string]any{"ranked": ranked}
	if len(res) > 0 {
		out["top"] = names[res[0].Index]
	}
	return succeeded(out)
}

// whole returns v as an int when it is a whole number.
func whole(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case float64:
		return int64(n), n == math.Trunc(n)
	}
	return 0, false
}
