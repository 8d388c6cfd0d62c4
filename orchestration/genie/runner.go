package genie

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/jobs"
	"github.com/gaffer-sre/gaffer/orchestration/genie/resolve"
	"github.com/gaffer-sre/gaffer/orchestration/workflow/workflowapi"
)

// StepType is the workflow step type whose steps run as Genie jobs.
const StepType = "genie"

// Params of a "genie" workflow step:
//
//	command_tags  "type:spark,ver:3" or a list: the command criterion (required)
//	cluster_tags  "sched:sla" or a list (one criterion), or a list of
//	              lists (criteria in priority order) (required)
//	args          the command's arguments: a command line or a list
//	name          the job's name (default: <workflow>.<step>)
//	user          the job's user (default: "workflow")
//	version       the job's version (default: "1")
//	tags          the job's own tags
//	timeout       seconds, or a Go duration (default: the step's timeout,
//	              else the system's default)
//
// When the job ends the step's outputs are job_id, status, exit_code,
// cluster and command, and its link the job's page.
type stepParams struct {
	CommandTags any    `json:"command_tags"`
	ClusterTags any    `json:"cluster_tags"`
	Args        any    `json:"args"`
	Name        string `json:"name"`
	User        string `json:"user"`
	Version     string `json:"version"`
	Tags        any    `json:"tags"`
	Timeout     any    `json:"timeout"`
}

func (s *Service) registerRunner() {
	jobs.HandleFunc(s.jobs, workflowapi.RunnerKind(StepType), jobs.KindOptions{MaxAttempts: 20, Timeout: time.Minute,
		Backoff: func(attempt int) time.Duration { return time.Duration(min(attempt, 30)) * 2 * time.Second },
		GiveUp:  s.runnerGaveUp}, s.runStep)
	jobs.HandleFunc(s.jobs, workflowapi.CancelKind(StepType), jobs.KindOptions{MaxAttempts: 5, Timeout: time.Minute},
		func(ctx context.Context, _ *jobs.Job, a workflowapi.StepJob) error {
			_, err := s.killJob(ctx, stepJobID(a))
			if errors.Is(err, ErrNotFound) {
				return nil // never submitted
			}
			return err
		})
}

var unsafeID = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// stepJobID is the id of the Genie job of a step attempt: the same on
// every run of the runner's job, so that a repeat finds the job it
// submitted instead of submitting another.
func stepJobID(a workflowapi.StepJob) string {
	return unsafeID.ReplaceAllString(fmt.Sprintf("wf-%s-%s-%d", a.Instance, a.Step, a.Attempt), "_")
}

// runStep submits a step's Genie job. Params that cannot make a job end
// the step at once (fatally); a user over the active-job limit waits,
// through the queue's retries.
func (s *Service) runStep(ctx context.Context, _ *jobs.Job, a workflowapi.StepJob) error {
	req, err := stepRequest(a)
	if err != nil {
		return s.stepDone(ctx, a.DoneFor(workflowapi.OutcomeFatal, nil, "genie step: "+err.Error()))
	}
	_, err = s.submit(ctx, req, "workflow:"+a.Workflow, &a)
	switch {
	case err == nil, errors.Is(err, ErrConflict):
		return nil // submitted now, or by an earlier run of this job
	case errors.Is(err, ErrInvalid):
		return s.stepDone(ctx, a.DoneFor(workflowapi.OutcomeFatal, nil, "genie step: "+err.Error()))
	case errors.Is(err, resolve.ErrNoCommand), errors.Is(err, resolve.ErrNoCluster):
		return nil // stored INVALID, with its StepDone queued
	}
	return err
}

func (s *Service) stepDone(ctx context.Context, d workflowapi.StepDone) error {
	_, err := s.jobs.Enqueue(ctx, workflowapi.StepDoneKind, d, nil)
	return err
}

// runnerGaveUp fails the step whose runner job will not run again.
func (s *Service) runnerGaveUp(ctx context.Context, j *jobs.Job, cause error) {
	var a workflowapi.StepJob
	if json.Unmarshal(j.Args, &a) != nil {
		return
	}
	if err := s.stepDone(ctx, a.DoneFor(workflowapi.OutcomePlatformFailed, nil, "genie step: could not submit the job: "+cause.Error())); err != nil {
		s.log.Error("fail a genie step whose runner gave up", "instance", a.Instance, "step", a.Step, "error", err)
	}
}

// stepRequest builds the job request of a step attempt from its params.
func stepRequest(a workflowapi.StepJob) (JobRequest, error) {
	raw, _ := json.Marshal(a.Params)
	var p stepParams
	if err := json.Unmarshal(raw, &p); err != nil {
		return JobRequest{}, fmt.Errorf("params: %w", err)
	}
	req := JobRequest{Common: Common{ID: stepJobID(a), Name: p.Name, User: p.User, Version: p.Version}}
	if req.Name == "" {
		req.Name = a.Workflow + "." + a.Step
	}
	if req.User == "" {
		req.User = "workflow"
	}
	if req.Version == "" {
		req.Version = "1"
	}
	var err error
	if req.CommandCriteria, err = tagParam("command_tags", p.CommandTags); err != nil {
		return req, err
	}
	if len(req.CommandCriteria) == 0 {
		return req, errors.New("command_tags: required (the tags of the command to run)")
	}
	crits, err := criteriaParam(p.ClusterTags)
	if err != nil {
		return req, err
	}
	for _, c := range crits {
		req.ClusterCriterias = append(req.ClusterCriterias, ClusterCriteria{Tags: c})
	}
	if req.Tags, err = tagParam("tags", p.Tags); err != nil {
		return req, err
	}
	switch v := p.Args.(type) {
	case nil:
	case string:
		if req.CommandArgs, err = SplitArgs(v); err != nil {
			return req, fmt.Errorf("args: %w", err)
		}
	case []any:
		for i, x := range v {
			str, ok := x.(string)
			if !ok {
				return req, fmt.Errorf("args[%d]: want a string, got %T", i, x)
			}
			req.CommandArgs = append(req.CommandArgs, str)
		}
	default:
		return req, fmt.Errorf("args: want a command line or a list of strings, got %T", v)
	}
	timeout, err := timeoutParam(p.Timeout, a.Timeout)
	if err != nil {
		return req, err
	}
	if timeout > 0 {
		req.Timeout = &timeout
	}
	return req, nil
}

// tagParam reads "a,b" or ["a", "b"].
func tagParam(name string, v any) ([]string, error) {
	switch t := v.(type) {
	case nil:
		return nil, nil
	case string:
		return normTags(strings.Split(t, ",")), nil
	case []any:
		var out []string
		for i, x := range t {
			s, ok := x.(string)
			if !ok {
				return nil, fmt.Errorf("%s[%d]: want a tag (string), got %T", name, i, x)
			}
			out = append(out, s)
		}
		return normTags(out), nil
	}
	return nil, fmt.Errorf("%s: want \"tag,tag\" or a list of tags, got %T", name, v)
}

// criteriaParam reads cluster_tags: one criterion ("a,b" or a list of
// tags) or several (a list of those).
func criteriaParam(v any) ([][]string, error) {
	if list, ok := v.([]any); ok && len(list) > 0 {
		if _, nested := list[0].(string); !nested {
			var out [][]string
			for i, x := range list {
				tags, err := tagParam(fmt.Sprintf("cluster_tags[%d]", i), x)
				if err != nil {
					return nil, err
				}
				out = append(out, tags)
			}
			return out, nil
		}
	}
	tags, err := tagParam("cluster_tags", v)
	if err != nil {
		return nil, err
	}
	if len(tags) == 0 {
		return nil, errors.New("cluster_tags: required (the tags of the cluster to run on)")
	}
	return [][]string{tags}, nil
}

// timeoutParam reads timeout as seconds or a Go duration, falling back
// to the step's timeout; 0 means the system's default.
func timeoutParam(v any, stepTimeout string) (int, error) {
	var d time.Duration
	switch t := v.(type) {
	case nil:
		if stepTimeout == "" {
			return 0, nil
		}
		var err error
		if d, err = time.ParseDuration(stepTimeout); err != nil {
			return 0, fmt.Errorf("the step's timeout %q: %w", stepTimeout, err)
		}
	case float64:
		d = time.Duration(t * float64(time.Second))
	case string:
		var err error
		if d, err = time.ParseDuration(t); err != nil {
			return 0, fmt.Errorf("timeout: %w", err)
		}
	default:
		return 0, fmt.Errorf("timeout: want seconds or a duration such as \"30m\", got %T", v)
	}
	if d <= 0 {
		return 0, fmt.Errorf("timeout: must be positive, got %v", d)
	}
	return int(math.Ceil(d.Seconds())), nil
}
