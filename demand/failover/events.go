package failover

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/gaffer-sre/gaffer/internal/platform/bus"
)

// Event types (CloudEvents, source /failover).
const (
	EventRecommended       = "gaffer.failover.recommended"
	EventEvacuationStarted = "gaffer.failover.evacuation.started"
	EventShiftStarted      = "gaffer.failover.shift.started"
	eventExecution         = "gaffer.failover.execution."
	eventStep              = "gaffer.failover.step."
	EventDarkPoolsSized    = "gaffer.failover.darkpools.sized"
	EventExerciseFinished  = "gaffer.failover.exercise.finished"
	eventSource            = "/failover"
)

// publish sends an event; a failure is logged, never fatal: the state
// it reports is in the database already. IDs are deterministic where an
// event may be sent twice (after a crash), so JetStream keeps one.
func (s *Service) publish(ctx context.Context, id, typ, subject string, data any) {
	if s.bus == nil {
		return
	}
	b, err := json.Marshal(data)
	if err != nil {
		s.log.Warn("failover: encode event", "type", typ, "error", err)
		return
	}
	ev := &bus.Event{ID: id, Source: eventSource, Type: typ, Subject: subject, Time: s.now().UTC(), Data: b}
	if _, err := s.bus.Publish(context.WithoutCancel(ctx), ev); err != nil {
		s.log.Warn("failover: publish event", "type", typ, "error", err)
	}
}

// stepEvent is the data of gaffer.failover.step.* events.
type stepEvent struct {
	Execution string  `json:"execution"`
	Plan      string  `json:"plan"`
	Fleet     string  `json:"fleet"`
	Seq       int     `json:"seq"`
	Phase     string  `json:"phase"`
	Kind      string  `json:"kind"`
	Name      string  `json:"name"`
	Clock     float64 `json:"clock_seconds"`
	Note      string  `json:"note,omitempty"`
	Error     string  `json:"error,omitempty"`
	Drill     bool    `json:"drill"`
}

func (s *Service) publishStep(ctx context.Context, c *claim, what, errText string) {
	d := stepEvent{Execution: c.ex.ID, Plan: c.rec.ID, Fleet: c.rec.Fleet, Seq: c.seq, Phase: c.phase, Kind: c.st.Kind,
		Name: c.st.Name, Note: c.progress.Note, Error: errText, Drill: c.ex.Exercise != "",
		Clock: float64(c.ex.ClockNow.Sub(c.ex.ClockStart).Milliseconds()) / 1000}
	s.publish(ctx, fmt.Sprintf("%s/%d/%s/%s", c.ex.ID, c.seq, what, c.token), eventStep+what, c.ex.ID, d)
}

// executionEvent is the data of gaffer.failover.execution.* events.
type executionEvent struct {
	Execution string  `json:"execution"`
	Plan      string  `json:"plan"`
	Fleet     string  `json:"fleet"`
	Region    string  `json:"region"`
	Fraction  float64 `json:"fraction"`
	Status    string  `json:"status"`
	Provider  string  `json:"provider"`
	Error     string  `json:"error,omitempty"`
	Drill     bool    `json:"drill"`
}

func (s *Service) publishExecution(ctx context.Context, ex *Execution, what string, rec *PlanRecord) {
	d := executionEvent{Execution: ex.ID, Plan: rec.ID, Fleet: rec.Fleet, Region: rec.Region, Fraction: rec.Fraction,
		Status: ex.Status, Provider: ex.Provider, Error: ex.Error, Drill: ex.Exercise != ""}
	s.publish(ctx, fmt.Sprintf("%s/%s/%d", ex.ID, what, ex.Step), eventExecution+what, ex.ID, d)
	if what != "started" {
		return
	}
	typ := EventShiftStarted
	if rec.Fraction >= 1 {
		typ = EventEvacuationStarted
	}
	s.publish(ctx, ex.ID+"/evacuation", typ, rec.Region, map[string]any{"region": rec.Region, "execution": ex.ID, "plan": rec.ID,
		"fleet": rec.Fleet, "drill": ex.Exercise != "", "traffic_percent": rec.Fraction * 100})
}
