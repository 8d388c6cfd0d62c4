package workflow

import (
	"context"
	"fmt"
	"time"
)

// demoWorkflow is the demo's pipeline: extract, load each region two at
// a time, and announce the day's report on the bus.
const demoWorkflow = `{"properties": {"owner": "data-eng", "run_strategy": "sequential"},
  "workflow": {"id": "nightly-report", "name": "Nightly report",
    "description": "Extract, load each region, announce the report.",
    "params": {"regions": {"value": ["us-east-1", "us-west-2", "eu-west-1"], "type": "STRING_ARRAY"}},
    "time_triggers": [{"type": "CRON", "cron": "0 30 2 * * ? *", "timezone": "UTC"}],
    "steps": [
      {"step": {"id": "extract", "type": "Sleep", "params": {"sleep_seconds": {"value": 1, "type": "LONG"}},
        "transition": {"successors": {"load": "true"}}}},
      {"foreach": {"id": "load", "concurrency": 2,
        "params": {"loop_params": {"value": {"region": {"value": "${regions}", "type": "STRING_ARRAY"}}, "type": "MAP"}},
        "steps": [{"step": {"id": "load-region", "type": "NoOp",
          "params": {"table": {"expression": "'report_' + region.replace('-', '_') + '_' + TARGET_RUN_DATE", "type": "STRING"}}}}],
        "transition": {"successors": {"announce": "true"}}}},
      {"step": {"id": "announce", "type": "publish", "params": {"event_type": {"value": "gaffer.demo.report_ready", "type": "STRING"},
        "data": {"value": {"day": "${TARGET_RUN_DATE}"}, "type": "STRING_MAP"}}}}]}}`

// LoadDemo applies the demo's workflow and, the first time, backfills its
// last three days.
func (s *Service) LoadDemo(ctx context.Context) error {
	if _, err := s.Apply(ctx, "nightly-report.json", []byte(demoWorkflow), "demo"); err != nil {
		return fmt.Errorf("workflow: demo: %w", err)
	}
	list, err := s.Instances(ctx, "nightly-report", 1)
	if err != nil || len(list) > 0 {
		return err
	}
	day := s.now().UTC().Truncate(24 * time.Hour)
	_, err = s.StartBackfill(ctx, "nightly-report", BackfillRequest{From: day.AddDate(0, 0, -3), To: day}, "demo")
	return err
}
