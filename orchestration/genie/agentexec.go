package genie

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/jobs"
	"github.com/gaffer-sre/gaffer/orchestration/genie/genieapi"
	"github.com/gaffer-sre/gaffer/remediation/remediationapi"
)

// Jobs on a cluster whose tags name an agent (ClusterAgentTag) run on
// that agent's host, as remediation's declared action AgentAction (see
// examples/actions/genie-job): this process stages the job's directory
// as for a local job, and the agent receives the command line, the
// environment and the staged files, recreates the directory on its host
// and runs the command there. Output streams back into the job's stdout
// and stderr here, where it is browsed and archived.

// ClusterAgentTag prefixes the cluster tag that names the agent its
// jobs run on: gaffer.agent:<agent name>.
const ClusterAgentTag = "gaffer.agent:"

// AgentAction is the declared action that runs Genie jobs on agents.
const AgentAction = "genie-job"

// agentReplyKind receives the agent's output and results (see
// remediationapi.AgentReply).
const agentReplyKind = "genie.agent_reply"

// maxShipped bounds the staged files sent with a job to its agent: they
// travel in the run request, one NATS message.
const maxShipped = 2 << 20

// clusterAgent is the agent a cluster's tags name, or "".
func clusterAgent(tags []string) string {
	for _, t := range tags {
		if name, ok := strings.CutPrefix(t, ClusterAgentTag); ok {
			return name
		}
	}
	return ""
}

// agentJob is the params of AgentAction: what the agent needs to run a
// job (see runAgentJob).
type agentJob struct {
	JobID string   `json:"job_id"`
	Argv  []string `json:"argv"`
	// Env is the job's environment, as KEY=value, without HOME and
	// GENIE_JOB_DIR: the agent sets them to the job's directory there.
	Env []string `json:"env"`
	// Files are the staged files, by path relative to the job's directory.
	Files map[string][]byte `json:"files,omitempty"`
}

// AgentExecutor runs job processes on the agent their cluster names,
// through remediation's agent runs (remediationapi.AgentRunKind).
type AgentExecutor struct {
	jobs *jobs.Queue

	mu    sync.Mutex
	procs map[string]*agentProcess // by job id
}

// NewAgentExecutor returns an executor that enqueues agent runs on q.
func NewAgentExecutor(q *jobs.Queue) *AgentExecutor {
	return &AgentExecutor{jobs: q, procs: map[string]*agentProcess{}}
}

// Start implements Executor: it asks for a run of AgentAction on
// spec.Agent. Its process has no PID here (0).
func (e *AgentExecutor) Start(spec ExecSpec) (Process, error) {
	if spec.Agent == "" {
		return nil, errors.New("no agent to run the job on")
	}
	if spec.JobID == "" {
		return nil, errors.New("no job id to run on an agent")
	}
	if !e.jobs.HasKind(remediationapi.AgentRunKind) {
		return nil, fmt.Errorf("cluster's agent %s: the remediation system does not run in this process", spec.Agent)
	}
	files, err := shippedFiles(spec.Dir)
	if err != nil {
		return nil, err
	}
	var env []string
	for _, kv := range spec.Env {
		if !strings.HasPrefix(kv, "HOME=") && !strings.HasPrefix(kv, "GENIE_JOB_DIR=") {
			env = append(env, kv)
		}
	}
	params, err := json.Marshal(agentJob{JobID: spec.JobID, Argv: spec.Argv, Env: env, Files: files})
	if err != nil {
		return nil, err
	}
	p := &agentProcess{e: e, id: spec.JobID, agent: spec.Agent, stdout: spec.Stdout, stderr: spec.Stderr, next: 1,
		pending: map[int]remediationapi.AgentRunOutput{}, done: make(chan struct{})}
	e.mu.Lock()
	if _, dup := e.procs[spec.JobID]; dup {
		e.mu.Unlock()
		return nil, fmt.Errorf("job %s: already running on an agent", spec.JobID)
	}
	e.procs[spec.JobID] = p
	e.mu.Unlock()
	// The agent's timeout is a backstop: this process's own timer kills
	// the job first, so that it ends KILLED as a local job does.
	timeout := spec.Timeout
	if timeout > 0 {
		timeout += killConfirmWait
	}
	_, err = e.jobs.Enqueue(context.Background(), remediationapi.AgentRunKind, remediationapi.AgentRun{Agent: spec.Agent,
		Action: AgentAction, Params: params, Timeout: timeout, ReplyKind: agentReplyKind, Key: spec.JobID, By: "genie"}, nil)
	if err != nil {
		e.forget(spec.JobID)
		return nil, fmt.Errorf("ask agent %s to run the job: %w", spec.Agent, err)
	}
	return p, nil
}

func (e *AgentExecutor) process(id string) *agentProcess {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.procs[id]
}

func (e *AgentExecutor) forget(id string) {
	e.mu.Lock()
	delete(e.procs, id)
	e.mu.Unlock()
}

// shippedFiles reads the staged files of a job's directory: all but its
// output and Genie's own logs.
func shippedFiles(dir string) (map[string][]byte, error) {
	files := map[string][]byte{}
	total := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			if rel == filepath.Join("genie", "logs") {
				return filepath.SkipDir
			}
			return nil
		}
		if rel == "stdout" || rel == "stderr" || !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if total += len(b); total > maxShipped {
			return fmt.Errorf("the staged files are larger than the %d bytes a job on an agent may carry", maxShipped)
		}
		files[filepath.ToSlash(rel)] = b
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("ship the job's files: %w", err)
	}
	return files, nil
}

// agentProcess is a job running on an agent: output and the result
// arrive as reply jobs (see Service.agentReply).
type agentProcess struct {
	e              *AgentExecutor
	id, agent      string
	stdout, stderr *os.File

	mu      sync.Mutex
	next    int                                   // the next chunk to write
	pending map[int]remediationapi.AgentRunOutput // chunks that came early
	ended   bool
	code    int
	err     error
	done    chan struct{}

	killOnce sync.Once
}

// maxPending is how many early chunks wait for a missing one before it
// is taken as lost (the result carries the whole output anyway).
const maxPending = 16

func (p *agentProcess) PID() int { return 0 }

func (p *agentProcess) Wait() (int, error) {
	<-p.done
	p.e.forget(p.id)
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.code, p.err
}

// killConfirmWait is how long past its grace a killed job waits for its
// agent to report the end before it is settled without it.
const killConfirmWait = 30 * time.Second

// Kill asks remediation to cancel the run; the agent kills its process
// group. With no word from the agent by grace plus killConfirmWait, the
// process is taken as ended.
func (p *agentProcess) Kill(grace time.Duration) {
	p.killOnce.Do(func() {
		_, err := p.e.jobs.Enqueue(context.Background(), remediationapi.AgentCancelKind,
			remediationapi.AgentCancel{ReplyKind: agentReplyKind, Key: p.id, By: "genie"}, nil)
		if err != nil {
			p.end(-1, fmt.Errorf("ask agent %s to kill the job: %w", p.agent, err))
			return
		}
		time.AfterFunc(grace+killConfirmWait, func() {
			p.end(-1, fmt.Errorf("agent %s did not report the end of the killed job", p.agent))
		})
	})
}

// output writes chunks to the job's files in their order.
func (p *agentProcess) output(o remediationapi.AgentRunOutput) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ended || o.Seq < p.next {
		return
	}
	p.pending[o.Seq] = o
	if len(p.pending) > maxPending {
		lowest := o.Seq
		for s := range p.pending {
			lowest = min(lowest, s)
		}
		p.next = lowest
	}
	for {
		c, ok := p.pending[p.next]
		if !ok {
			return
		}
		delete(p.pending, p.next)
		p.next++
		if f := p.file(c.Stream); f != nil {
			f.Write(c.Data)
		}
	}
}

func (p *agentProcess) file(stream string) *os.File {
	switch stream {
	case "stdout":
		return p.stdout
	case "stderr":
		return p.stderr
	}
	return nil
}

// result rewrites the job's output from the result, which holds all of
// it (chunks may have been lost), and ends the process.
func (p *agentProcess) result(r remediationapi.AgentRunResult) {
	stdout := r.Stdout
	if stdout == "" && len(r.Output) > 0 {
		stdout = string(r.Output) + "\n"
	}
	p.mu.Lock()
	if !p.ended {
		for _, w := range []struct {
			f    *os.File
			data string
		}{{p.stdout, stdout}, {p.stderr, r.Stderr}} {
			if w.f != nil && (w.data != "" || r.Status != remediationapi.AgentRunLost) {
				w.f.Truncate(0)
				w.f.WriteAt([]byte(w.data), 0)
				w.f.Seek(int64(len(w.data)), 0)
			}
		}
	}
	p.mu.Unlock()
	switch r.Status {
	case "succeeded", "failed", "cancelled":
		if r.ExitCode >= 0 || r.Status == "cancelled" {
			p.end(r.ExitCode, nil)
			return
		}
	}
	p.end(-1, &agentRunError{fmt.Sprintf("agent %s: run %s: %s", p.agent, r.Status, r.Error)})
}

// agentRunError is how a run on an agent ended without an exit code of
// its program: never started, refused, lost or timed out.
type agentRunError struct{ msg string }

func (e *agentRunError) Error() string { return e.msg }

func (p *agentProcess) end(code int, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ended {
		return
	}
	p.ended, p.code, p.err = true, code, err
	close(p.done)
}

// agentReply takes an agent's output or result to the job it is for. A
// result for a job another process runs is left to the queue's retries,
// so that a process running the job takes it.
func (s *Service) agentReply(ctx context.Context, _ *jobs.Job, a remediationapi.AgentReply) error {
	if p := s.agentExec.process(a.Key); p != nil {
		if a.Output != nil {
			p.output(*a.Output)
		}
		if a.Result != nil {
			p.result(*a.Result)
		}
		return nil
	}
	if a.Result == nil {
		return nil // live output of a job not run here
	}
	j, err := s.getJob(ctx, a.Key)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if genieapi.Active(j.Status) && j.Owner != s.owner && j.Owner != "" {
		return fmt.Errorf("genie: the result of job %s is for process %s", j.ID, j.Owner)
	}
	return nil
}

// cancelOnAgent stops the run of a lost job on its cluster's agent: the
// process that asked for it is gone, and no one would hear its end.
func (s *Service) cancelOnAgent(ctx context.Context, j *jobRow) error {
	docs, err := s.snapshot(ctx)
	if err != nil {
		return err
	}
	d, err := docs.get(kindCluster, j.ClusterID)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	name := clusterAgent(d.(*Cluster).Tags)
	if name == "" || !s.jobs.HasKind(remediationapi.AgentCancelKind) {
		return nil
	}
	_, err = s.jobs.Enqueue(ctx, remediationapi.AgentCancelKind, remediationapi.AgentCancel{ReplyKind: agentReplyKind, Key: j.ID,
		By: "genie"}, nil)
	return err
}

func (s *Service) registerAgentReplies() {
	jobs.HandleFunc(s.jobs, agentReplyKind, jobs.KindOptions{MaxAttempts: 20, Timeout: time.Minute,
		Backoff: func(attempt int) time.Duration { return time.Duration(min(attempt, 10)) * time.Second }}, s.agentReply)
}
