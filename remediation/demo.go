package remediation

import (
	"context"
	"fmt"
)

// demoRunbooks are applied by `gaffer serve --demo`: one that needs no
// agent (so its execution shows at once) and one that triages with agents.
var demoRunbooks = []string{`name: demo-triage
description: Look at a service's error rate, find where it changed, and ask before paging (works without agents).
params:
  type: object
  properties:
    service: {type: string, default: checkout}
steps:
  - name: errors
    type: noop
    output: [0.1, 0.2, 0.1, 0.15, 0.1, 0.12, 0.11, 0.1, 2.4, 2.6, 2.5, 2.7, 2.4, 2.5]
  - name: changed
    type: changepoint
    series: steps.errors.output
    algorithm: binseg
    n_bkps: 1
    next:
      - if: result.changed
        goto: page
      - goto: end
  - name: page
    type: approval
    question: "${{ params.service }}'s error rate jumped at sample ${{ string(steps.changed.output.change_points[0]) }}. Page the on-call?"
    answer:
      type: object
      properties: {page: {type: boolean}}
      required: [page]
    expires: 24h
  - name: announce
    type: publish
    event:
      type: gaffer.remediation.demo.paged
      data: {service: "${{ params.service }}", page: "${{ steps.page.output.answer.page }}"}
`, `name: demo-restart
description: >-
  Restart a demo service on the host of an agent and check it came back.
  The agent parameter is the agent's name as the Agents page shows it;
  under --demo, demo-agent runs inside the server and only pretends.
params:
  type: object
  properties:
    agent: {type: string, default: demo-agent, description: "the name of the agent whose host runs the service"}
    service: {type: string, default: demo-web, description: "a demo service (demo-*)"}
  required: [agent]
steps:
  - name: restart
    type: agent
    action: restart-service
    params: {service: "${{ params.service }}"}
    targets: {agent: "${{ params.agent }}"}
  - name: health
    type: agent
    action: service-status
    params: {service: "${{ params.service }}"}
    targets: {agent: "${{ params.agent }}"}
    retry: {attempts: 3, backoff: 2s}
`}

// LoadDemo applies the demo runbooks, starts the demo agent (the events
// demo runs demo-restart on it when the demo's web alert fires) and, the
// first time, starts the agent-free runbook so that its execution waits
// for an approval.
func (s *Service) LoadDemo(ctx context.Context) error {
	for _, src := range demoRunbooks {
		if _, _, err := s.runbooks.apply(ctx, []byte(src), "demo", "demo data"); err != nil {
			return fmt.Errorf("remediation demo: %w", err)
		}
	}
	if err := s.startDemoAgent(ctx); err != nil {
		// A demo on an external NATS that does not admit agents by
		// token: the rest of the demo still works.
		s.log.Warn("demo agent not started; demo-restart will find no agent", "error", err)
	}
	list, _, err := listExecs(ctx, s.db, ExecFilter{Runbook: "demo-triage", Limit: 1})
	if err != nil || len(list) > 0 {
		return err
	}
	_, _, err = s.engine.start(ctx, StartRequest{Runbook: "demo-triage", Trigger: Trigger{Kind: "manual", By: "demo"}})
	return err
}
