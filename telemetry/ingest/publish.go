package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
	"github.com/gaffer-sre/gaffer/telemetry/prom"
	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

// MaxPublishBytes bounds a publish body.
const MaxPublishBytes = 16 << 20

// Publisher serves Atlas's POST /api/v1/publish.
type Publisher struct {
	Storage prom.Appendable
	Rules   AtlasRules
	// MaxAge is how far a datapoint's timestamp may be from now, either
	// way (Atlas: one step, 1 minute). 0 disables the check.
	MaxAge time.Duration
	// Now is the clock; time.Now if nil.
	Now func() time.Time
}

// FailureMessage is Atlas's answer when datapoints were refused: type is
// "partial" (202, the rest were stored) or "error" (400, none were).
// message lists up to five reasons with the refused datapoint's tags.
type FailureMessage struct {
	Type       string   `json:"type"`
	ErrorCount int      `json:"errorCount"`
	Message    []string `json:"message"`
}

// diagnostic is Atlas's plain error body.
type diagnostic struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

// Route returns the publish route, guarded by scope.
func (p *Publisher) Route(scope string) httpapi.Route {
	return httpapi.Route{Method: "POST", Path: "/api/v1/publish", Scope: scope, Action: "metrics.samples.publish", AuditSummary: true,
		Summary:  "Atlas publish: {tags, metrics:[{tags, timestamp, value}]}; 200 stored, 202 partly, 400 none",
		Response: FailureMessage{}, Handler: p.ServePublish}
}

type failure struct {
	reason string
	tags   map[string]string
}

// ServePublish validates and stores one publish payload.
func (p *Publisher) ServePublish(w http.ResponseWriter, r *http.Request) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxPublishBytes+1))
	if err != nil {
		return httpapi.WriteJSON(w, http.StatusBadRequest, diagnostic{"error", "read body: " + err.Error()})
	}
	if len(body) > MaxPublishBytes {
		return httpapi.WriteJSON(w, http.StatusRequestEntityTooLarge, diagnostic{"error", fmt.Sprintf("payload larger than %d bytes", MaxPublishBytes)})
	}
	dps, err := DecodePublish(body)
	if err != nil {
		return httpapi.WriteJSON(w, http.StatusBadRequest, diagnostic{"error", err.Error()})
	}
	if len(dps) == 0 {
		return httpapi.WriteJSON(w, http.StatusBadRequest, diagnostic{"error", "empty payload"})
	}
	failures, err := p.store(dps)
	if errors.Is(err, tsdb.ErrTooOld) {
		// The head was cut between Append and Commit; try once more.
		failures, err = p.store(dps)
	}
	if err != nil {
		if errors.Is(err, tsdb.ErrStorageFull) {
			w.Header().Set("Retry-After", "30")
		}
		return prom.WriteError(err)
	}
	switch {
	case len(failures) == 0:
		w.WriteHeader(http.StatusOK)
		return nil
	case len(failures) == len(dps):
		return httpapi.WriteJSON(w, http.StatusBadRequest, failureMessage("error", failures))
	}
	return httpapi.WriteJSON(w, http.StatusAccepted, failureMessage("partial", failures))
}

func failureMessage(typ string, fs []failure) FailureMessage {
	m := FailureMessage{Type: typ, ErrorCount: len(fs), Message: []string{}}
	for _, f := range fs {
		if len(m.Message) == 5 {
			break
		}
		var tags bytes.Buffer
		enc := json.NewEncoder(&tags)
		enc.SetEscapeHTML(false)
		enc.Encode(f.tags)
		m.Message = append(m.Message, fmt.Sprintf("%s (tags=%s)", f.reason, bytes.TrimSpace(tags.Bytes())))
	}
	return m
}

// store validates each datapoint and stores the valid ones as one batch.
// Datapoints the store refuses (limits, time) are failures like invalid
// ones, as in Atlas; a full disk stores nothing and is returned.
func (p *Publisher) store(dps []Datapoint) ([]failure, error) {
	now := time.Now()
	if p.Now != nil {
		now = p.Now()
	}
	nowMs := now.UnixMilli()
	maxAge := p.MaxAge.Milliseconds()
	var fails []failure
	app := p.Storage.Appender()
	for _, dp := range dps {
		d := nowMs - dp.Timestamp
		var reason string
		switch {
		case maxAge > 0 && d > maxAge:
			reason = fmt.Sprintf("data is too old: now = %d, timestamp = %d, %d > %d", nowMs, dp.Timestamp, d, maxAge)
		case maxAge > 0 && d < -maxAge:
			reason = fmt.Sprintf("data is from future: now = %d, timestamp = %d", nowMs, dp.Timestamp)
		default:
			reason = p.Rules.Validate(dp.Tags)
		}
		if reason == "" {
			_, err := app.Append(0, AtlasLabels(dp.Tags), dp.Timestamp, dp.Value)
			if err != nil {
				if !refusable(err) {
					app.Rollback()
					return nil, err
				}
				reason = err.Error()
			}
		}
		if reason != "" {
			fails = append(fails, failure{reason, dp.Tags})
		}
	}
	if err := app.Commit(); err != nil {
		return nil, err
	}
	return fails, nil
}

// refusable reports whether a store error refuses one datapoint only.
func refusable(err error) bool {
	for _, target := range []error{tsdb.ErrInvalidSeries, tsdb.ErrCardinalityLimit, tsdb.ErrOutOfOrder,
		tsdb.ErrDuplicateSample, tsdb.ErrTooOld, tsdb.ErrTooNew} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}
