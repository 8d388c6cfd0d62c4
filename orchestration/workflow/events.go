package workflow

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/bus"
	"github.com/gaffer-sre/gaffer/orchestration/workflow/workflowapi"
)

// instanceEvent queues a gaffer.workflow.instance.<status> event.
func (t *txn) instanceEvent(r *instRow, status, why string) {
	t.events = append(t.events, event{typ: workflowapi.InstanceEventPrefix + strings.ToLower(status), data: map[string]any{
		"workflow_id": r.workflow, "instance_id": r.no, "version": r.version, "status": status, "error": why}})
}

// stepEvent queues a gaffer.workflow.step.<status> event.
func (t *txn) stepEvent(r *instRow, step, status, why string) {
	t.events = append(t.events, event{typ: workflowapi.StepEventPrefix + strings.ToLower(status), data: map[string]any{
		"workflow_id": r.workflow, "instance": r.id, "step_id": step, "status": status, "error": why}})
}

// publish sends events once their transaction has committed; a failure
// is logged, the state stands.
func (s *Service) publish(events []event) {
	if s.bus == nil || len(events) == 0 {
		return
	}
	s.running.Add(1)
	go func() {
		defer s.running.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, e := range events {
			data, _ := json.Marshal(e.data)
			// A random ID: JetStream drops an event whose source and ID
			// it saw in the last two minutes.
			ev := &bus.Event{Type: e.typ, Source: "/gaffer/workflow", Subject: fmt.Sprint(e.data["workflow_id"]), Data: data}
			if _, err := s.bus.Publish(ctx, ev); err != nil {
				s.log.Warn("publish a workflow event", "type", e.typ, "error", err)
				return
			}
		}
	}()
}
