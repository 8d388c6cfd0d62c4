package remediation

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/gaffer-sre/gaffer/orchestration/workflow/workflowapi"
)

// Workflow steps of type "agent" run one declared action on agents. Their
// params: action (required), agent (an agent's name) or tags (a map that
// selects agents), params (a map: the action's params), timeout (a
// duration, default the runbook step's 5m). Each runs as an execution of
// a runbook Gaffer writes for the action and the names the step uses,
// "wf-agent-<action>-<hash>", so it has the runbook's page, history,
// approvals of unknown outcomes and recovery; the step's outputs are the
// execution's and items, one per agent (agent, hostname, status, output).

// AgentStepType is the workflow step type that runs an action on agents.
const AgentStepType = "agent"

// agentActionName is what a declared action may be called.
var agentActionName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// agentRunbook is the runbook an agent step of this shape runs: its
// action, the names of the action's params and of the selecting tags,
// and its timeout. Steps of the same shape share it.
func agentRunbook(action string, params, tags []string, byName bool, timeout string) ([]byte, string, error) {
	if !agentActionName.MatchString(action) {
		return nil, "", fmt.Errorf("param action: %q is not an action's name", action)
	}
	if !byName && len(tags) == 0 {
		return nil, "", errors.New("params agent and tags: give an agent's name or tags that select agents")
	}
	sort.Strings(params)
	sort.Strings(tags)
	ap := map[string]any{}
	for _, p := range params {
		ap[p] = fmt.Sprintf("${{ params.args[%q] }}", p)
	}
	targets := map[string]any{}
	if byName {
		targets["agent"] = "${{ params.agent }}"
	}
	if len(tags) > 0 {
		tm := map[string]any{}
		for _, k := range tags {
			tm[k] = fmt.Sprintf("${{ params.tags[%q] }}", k)
		}
		targets["tags"] = tm
	}
	step := map[string]any{"name": "run", "type": TypeAgent, "action": action, "targets": targets,
		"publish": map[string]any{"items": "${{ result.items }}"}}
	if len(ap) > 0 {
		step["params"] = ap
	}
	if timeout != "" {
		step["timeout"] = timeout
	}
	shape, _ := json.Marshal(step)
	sum := sha256.Sum256(shape)
	name := fmt.Sprintf("wf-agent-%s-%s", strings.ToLower(action), hex.EncodeToString(sum[:4]))
	rb := map[string]any{
		"name":        name,
		"description": "Runs the agent action " + action + " for workflow steps of type agent (written by Gaffer).",
		"params": map[string]any{"type": "object", "properties": map[string]any{
			"agent": map[string]any{"type": "string"}, "tags": map[string]any{"type": "object"}, "args": map[string]any{"type": "object"}}},
		"steps": []any{step},
	}
	src, err := json.Marshal(rb)
	return src, name, err
}

// startAgentStep writes (or finds) the runbook of an agent step's shape
// and starts it as a runbook step would.
func (s *Service) startAgentStep(ctx context.Context, j workflowapi.StepJob) error {
	action, _ := j.Params["action"].(string)
	agentName, _ := j.Params["agent"].(string)
	args, _ := j.Params["params"].(map[string]any)
	tags, _ := j.Params["tags"].(map[string]any)
	timeout, _ := j.Params["timeout"].(string)
	var argNames, tagNames []string
	for k := range args {
		argNames = append(argNames, k)
	}
	for k := range tags {
		tagNames = append(tagNames, k)
	}
	src, name, err := agentRunbook(action, argNames, tagNames, agentName != "", timeout)
	if err != nil {
		_, qerr := s.jobs.Enqueue(ctx, workflowapi.StepDoneKind, j.DoneFor(workflowapi.OutcomeFailed, nil, err.Error()), nil)
		return qerr
	}
	by := "workflow:" + j.Workflow
	res, _, err := s.runbooks.apply(ctx, src, by, "for agent steps of workflows")
	if err != nil {
		_, qerr := s.jobs.Enqueue(ctx, workflowapi.StepDoneKind, j.DoneFor(workflowapi.OutcomeFailed, nil, err.Error()), nil)
		return qerr
	}
	if !res.Unchanged {
		s.auditRecord(ctx, by, "remediation.runbooks.apply", "runbook:"+name, fmt.Sprintf("version=%d", res.Version))
	}
	run := j
	run.Params = map[string]any{"runbook": name, "params": map[string]any{"agent": agentName, "tags": orEmpty(tags), "args": orEmpty(args)}}
	return s.startWorkflowStep(ctx, run)
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}
