package workflow_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/gaffer-sre/gaffer/internal/platform/clocktest"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/orchestration/workflow"
)

// TestEveryInstanceEventKept: instances that end at the same instant of
// the service clock each publish their event (JetStream drops an event
// whose ID it has seen, and IDs once came from the clock).
func TestEveryInstanceEventKept(t *testing.T) {
	clock := clocktest.NewManual(time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC))
	srv := platformtest.Start(t, platformtest.Options{Now: clock.Now})
	tok := srv.AdminToken
	apply(t, srv, tok, `{"properties": {"run_strategy": "parallel"}, "workflow": {"id": "tick", "steps": [{"step": {"id": "a", "type": "NoOp"}}]}}`)
	for range 3 {
		var in workflow.Instance
		srv.Do("POST", "/api/v1/workflows/tick/instances", tok, nil).JSON(t, &in)
		waitEnd(t, srv, tok, "tick", in.InstanceID)
	}
	const subject = "gaffer.workflow.instance.succeeded"
	platformtest.Eventually(t, "three "+subject+" events", func() bool {
		info, err := srv.Deps().Bus.Stream.Info(context.Background(), jetstream.WithSubjectFilter(subject))
		return err == nil && info.State.Subjects[subject] == 3
	})
}
