package events

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/gaffer-sre/gaffer/internal/platform/bus"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
)

// Replay bounds.
const (
	defaultReplayScan = 100_000
	maxReplayScan     = 1_000_000
	replayMatchesKept = 100
	replayTimeLimit   = 30 * time.Second
)

// ReplayRequest asks what a rule would have done over a past time range.
type ReplayRequest struct {
	// Since and Until bound the time the stream received the events: RFC
	// 3339, or a duration ago ("6h"). Defaults: the last hour.
	Since string `json:"since,omitempty"`
	Until string `json:"until,omitempty"`
	// MaxEvents bounds the events read (default 100,000; at most 1,000,000).
	MaxEvents int `json:"max_events,omitempty"`
	// Rule is the unsaved rule to try (POST /api/v1/events/replay only).
	Rule *RuleSpec `json:"rule,omitempty"`
}

// ReplayResult reports a dry run. Nothing was acted on.
type ReplayResult struct {
	Rule    string    `json:"rule"`
	Since   time.Time `json:"since"`
	Until   time.Time `json:"until"`
	Scanned int       `json:"scanned"`
	Matched int       `json:"matched"`
	// Truncated is true when the run stopped at max_events or the time
	// limit before reaching until.
	Truncated bool `json:"truncated,omitempty"`
	// EvalErrors counts events whose condition could not be evaluated
	// (they do not match; the replay goes on); BudgetExceeded those among
	// them stopped by the CEL budget. LastEvalError is one of the errors.
	EvalErrors     int64  `json:"eval_errors"`
	BudgetExceeded int64  `json:"budget_exceeded"`
	LastEvalError  string `json:"last_eval_error,omitempty"`
	Elapsed        string `json:"elapsed"`
	// Matches are the first 100 matching events and what each action
	// would have done.
	Matches []ReplayMatch `json:"matches"`
}

// ReplayMatch is one event the rule would have matched.
type ReplayMatch struct {
	Seq      uint64          `json:"seq"`
	Received time.Time       `json:"received"`
	Event    json.RawMessage `json:"event"`
	Actions  []ReplayAction  `json:"actions"`
}

// ReplayAction is what one action would have done.
type ReplayAction struct {
	Index int    `json:"index"`
	Type  string `json:"type"`
	// Outcome is "would run", "would pass", "would suppress", "skipped
	// (suppressed)" or "would fail".
	Outcome string `json:"outcome"`
	// Detail is the target or, for publish and job actions, the event or
	// arguments they would have sent.
	Detail json.RawMessage `json:"detail,omitempty"`
	Error  string          `json:"error,omitempty"`
}

func (s *Service) handleReplayRule(w http.ResponseWriter, r *http.Request) error {
	var req ReplayRequest
	if err := httpapi.DecodeJSON(r, &req); err != nil {
		return err
	}
	if req.Rule != nil {
		return httpapi.BadRequest("rule: not allowed here; POST /api/v1/events/replay tries an unsaved rule")
	}
	rule, err := s.lookupRule(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	httpapi.SetAuditTarget(r, "rule:"+rule.ID)
	cr, err := compileRule(rule, nil)
	if err != nil {
		return apiError(err)
	}
	res, err := s.replay(r.Context(), cr, req)
	if err != nil {
		return err
	}
	return httpapi.WriteJSON(w, http.StatusOK, res)
}

func (s *Service) handleReplaySpec(w http.ResponseWriter, r *http.Request) error {
	var req ReplayRequest
	if err := httpapi.DecodeJSON(r, &req); err != nil {
		return err
	}
	if req.Rule == nil {
		return httpapi.BadRequest("rule: required (the rule to try, as for POST /api/v1/events/rules)")
	}
	rule, err := s.ruleFromSpec(*req.Rule, true)
	if err != nil {
		return err
	}
	rule.ID = "unsaved"
	cr, err := compileRule(rule, nil)
	if err != nil {
		return apiError(err)
	}
	res, err := s.replay(r.Context(), cr, req)
	if err != nil {
		return err
	}
	return httpapi.WriteJSON(w, http.StatusOK, res)
}

// replay reads the stream from since to until and evaluates the rule on
// every event, simulating suppression from an empty state. It reads at
// most MaxEvents events and runs for at most 30 seconds.
func (s *Service) replay(ctx context.Context, cr *compiledRule, req ReplayRequest) (*ReplayResult, error) {
	now := s.now().UTC()
	since, err := parseTime("since", req.Since, now)
	if err != nil {
		return nil, err
	}
	until, err := parseTime("until", req.Until, now)
	if err != nil {
		return nil, err
	}
	if since.IsZero() {
		since = now.Add(-time.Hour)
	}
	if until.IsZero() {
		until = now
	}
	if !since.Before(until) {
		return nil, httpapi.BadRequest("since: must be before until")
	}
	budget := req.MaxEvents
	if budget <= 0 {
		budget = defaultReplayScan
	}
	budget = min(budget, maxReplayScan)
	res := &ReplayResult{Rule: cr.rule.Name, Since: since, Until: until, Matches: []ReplayMatch{}}
	start := time.Now()
	cr.stats = &ruleStats{exceeded: s.celExceeded}
	defer func() {
		res.Elapsed = time.Since(start).Round(time.Millisecond).String()
		st := cr.stats.snapshot()
		res.EvalErrors, res.BudgetExceeded, res.LastEvalError = st.EvalErrors, st.BudgetExceeded, st.LastEvalError
	}()

	info, err := s.bus.Stream.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("events: replay: stream info: %w", err)
	}
	last := info.State.LastSeq
	if info.State.Msgs == 0 {
		return res, nil
	}
	ctx, cancel := context.WithTimeout(ctx, replayTimeLimit)
	defer cancel()
	cons, err := s.bus.Stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartTimePolicy, OptStartTime: &since})
	if err != nil {
		return nil, fmt.Errorf("events: replay: read the stream: %w", err)
	}
	sim := newSuppressSim()
	matcher := newMatcher([]*compiledRule{cr})
	var act activation
	// visit evaluates one message; it reports whether the replay is over.
	visit := func(msg jetstream.Msg) bool {
		meta, err := msg.Metadata()
		if err != nil {
			return false
		}
		if !meta.Timestamp.Before(until) || meta.Sequence.Stream > last {
			return true
		}
		if res.Scanned >= budget {
			res.Truncated = true
			return true
		}
		res.Scanned++
		if ev, err := bus.ParseEvent(msg.Data()); err == nil {
			act.reset(ev, meta.Timestamp)
			if len(matcher.Match(&act, nil)) == 1 {
				res.Matched++
				actions := dryRun(cr, &act, sim)
				if len(res.Matches) < replayMatchesKept {
					res.Matches = append(res.Matches, ReplayMatch{Seq: meta.Sequence.Stream, Received: meta.Timestamp.UTC(),
						Event: append(json.RawMessage(nil), msg.Data()...), Actions: actions})
				}
			}
		}
		return meta.Sequence.Stream >= last
	}
	for {
		batch, err := cons.Fetch(500, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			if ctx.Err() != nil {
				res.Truncated = true
				return res, nil
			}
			return nil, fmt.Errorf("events: replay: read the stream: %w", err)
		}
		n := 0
		for msg := range batch.Messages() {
			n++
			if visit(msg) {
				return res, nil
			}
		}
		if err := batch.Error(); err != nil && ctx.Err() != nil {
			res.Truncated = true
			return res, nil
		}
		if n == 0 {
			return res, nil // reached the end of the stream
		}
	}
}
