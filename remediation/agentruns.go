package remediation

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/gaffer-sre/gaffer/internal/platform/jobs"
	"github.com/gaffer-sre/gaffer/internal/platform/store"
	"github.com/gaffer-sre/gaffer/remediation/agent"
	"github.com/gaffer-sre/gaffer/remediation/remediationapi"
)

// Agent runs for other systems (remediationapi.AgentRun): remediation
// dispatches the declared action to the named agent through the same
// signed requests as a runbook step, and sends the run's output chunks
// and result to the caller as jobs of its reply kind. The runs are kept
// in remediation_agent_runs, so that output and results find their
// caller after a restart.

// agentRunPrefix starts the run ID of every agent run for another
// system; execution steps' run IDs start with an execution's ID.
const agentRunPrefix = "ar-"

// Statuses of remediation_agent_runs.
const (
	arDispatching = "dispatching"
	arRunning     = "running"
	arCancelled   = "cancelled"
	arDone        = "done"
)

// maxAgentRunKey bounds a caller's key.
const maxAgentRunKey = 255

// agentRunRoute is where a run's replies go.
type agentRunRoute struct {
	agent, replyKind, key string
}

// agentRuns serves the remediationapi agent-run job kinds.
type agentRuns struct {
	s *Service

	mu     sync.Mutex
	routes map[string]agentRunRoute // run ID -> route, of runs seen by this process
}

func newAgentRuns(s *Service) *agentRuns {
	return &agentRuns{s: s, routes: map[string]agentRunRoute{}}
}

func (ar *agentRuns) register(q *jobs.Queue) {
	jobs.HandleFunc(q, remediationapi.AgentRunKind, jobs.KindOptions{MaxAttempts: 5, Timeout: time.Minute,
		Backoff: func(attempt int) time.Duration { return time.Duration(attempt) * time.Second }}, ar.start)
	jobs.HandleFunc(q, remediationapi.AgentCancelKind, jobs.KindOptions{MaxAttempts: 5, Timeout: time.Minute}, ar.cancel)
	jobs.HandleFunc(q, agentRunsCleanupKind, jobs.KindOptions{MaxAttempts: 1, Timeout: time.Minute},
		func(ctx context.Context, _ *jobs.Job, _ struct{}) error { return ar.cleanup(ctx) })
	if err := q.Every(agentRunsCleanupKind, time.Hour, struct{}{}, false); err != nil {
		ar.s.log.Error("schedule the removal of old agent runs", "error", err)
	}
}

// agentRunsCleanupKind removes the records of runs ended long ago.
const agentRunsCleanupKind = "remediation.agent_runs_cleanup"

// agentRunsKept is how long the record of an ended run is kept: long
// past any redelivery of its request, which it answers.
const agentRunsKept = 30 * 24 * time.Hour

// cleanup removes the records of runs that ended (or were cancelled
// before they started) more than agentRunsKept ago.
func (ar *agentRuns) cleanup(ctx context.Context) error {
	_, err := ar.s.db.ExecContext(ctx, `DELETE FROM remediation_agent_runs WHERE status IN (?, ?) AND created_at < ?`,
		arDone, arCancelled, ar.s.now().Add(-agentRunsKept).UnixMilli())
	if err != nil {
		return fmt.Errorf("remediation: remove old agent runs: %w", err)
	}
	return nil
}

// agentRunID is the run ID of a caller's run: the same on every attempt
// of its job, so that the agent recognises a repeated request.
func agentRunID(replyKind, key string) string {
	sum := sha256.Sum256([]byte(replyKind + "\x00" + key))
	return agentRunPrefix + hex.EncodeToString(sum[:12])
}

// checkAgentRun says what is wrong with a request, naming the field.
func (ar *agentRuns) checkAgentRun(r remediationapi.AgentRun) error {
	if err := agent.ValidName(r.Agent); err != nil {
		return fmt.Errorf("agent: %w", err)
	}
	if r.Action == "" {
		return errors.New("action: required")
	}
	if r.Timeout < 0 {
		return fmt.Errorf("timeout: must not be negative, got %v", r.Timeout)
	}
	if len(r.Params) > 0 {
		var m map[string]any
		if err := json.Unmarshal(r.Params, &m); err != nil {
			return fmt.Errorf("params: want a JSON object: %w", err)
		}
	}
	return checkReplyTo(r.ReplyKind, r.Key, ar.s.jobs)
}

func checkReplyTo(kind, key string, q *jobs.Queue) error {
	if kind == "" {
		return errors.New("reply_kind: required")
	}
	if !q.HasKind(kind) {
		return fmt.Errorf("reply_kind: %q is not a job kind of this process", kind)
	}
	if key == "" || len(key) > maxAgentRunKey {
		return fmt.Errorf("key: want 1 to %d characters, got %d", maxAgentRunKey, len(key))
	}
	return nil
}

// start dispatches a run. A repeated attempt of the job finds the run's
// row and goes no further than the first went; the agent refuses to
// start one run ID twice.
func (ar *agentRuns) start(ctx context.Context, _ *jobs.Job, r remediationapi.AgentRun) error {
	if err := ar.checkAgentRun(r); err != nil {
		if r.ReplyKind != "" && r.Key != "" && ar.s.jobs.HasKind(r.ReplyKind) {
			return ar.finish(ctx, agentRunID(r.ReplyKind, r.Key), r.ReplyKind, r.Key, undispatched("the request is invalid: "+err.Error()))
		}
		return jobs.Cancel(fmt.Errorf("remediation.agent_run: %w", err))
	}
	run := agentRunID(r.ReplyKind, r.Key)
	db := ar.s.db
	if _, err := db.ExecContext(ctx, `INSERT INTO remediation_agent_runs (run_id, reply_kind, caller_key, agent, action, status, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, run, r.ReplyKind, r.Key, r.Agent, r.Action, arDispatching,
		ar.s.now().UnixMilli()); err != nil {
		return fmt.Errorf("remediation.agent_run: record the run: %w", err)
	}
	var status string
	if err := db.QueryRowContext(ctx, `SELECT status FROM remediation_agent_runs WHERE run_id = ?`, run).Scan(&status); err != nil {
		return fmt.Errorf("remediation.agent_run: read the run: %w", err)
	}
	switch status {
	case arCancelled:
		return ar.finish(ctx, run, r.ReplyKind, r.Key, remediationapi.AgentRunResult{Status: agent.StatusCancelled,
			ExitCode: -1, Error: "cancelled before it started"})
	case arRunning, arDone:
		return nil
	}
	boot := ar.s.agents.boot(r.Agent)
	if _, err := db.ExecContext(ctx, `UPDATE remediation_agent_runs SET agent_boot = ? WHERE run_id = ?`, boot, run); err != nil {
		return err
	}
	params := r.Params
	if len(params) == 0 {
		params = json.RawMessage("{}")
	}
	ar.remember(run, agentRunRoute{agent: r.Agent, replyKind: r.ReplyKind, key: r.Key})
	reply, err := ar.s.agents.run(ctx, r.Agent, boot, agent.RunRequest{Run: run, Action: r.Action, Params: params, Timeout: r.Timeout})
	switch {
	case errors.Is(err, nats.ErrNoResponders):
		return ar.finish(ctx, run, r.ReplyKind, r.Key, undispatched(fmt.Sprintf("agent %s is not connected", r.Agent)))
	case err != nil:
		// No answer, or an answer for an earlier life: ask again (the
		// same run ID, which the agent recognises).
		return fmt.Errorf("remediation.agent_run: run %s on %s: %w", r.Action, r.Agent, err)
	case !reply.Accepted:
		return ar.finish(ctx, run, r.ReplyKind, r.Key, remediationapi.AgentRunResult{Status: agent.StatusRejected, ExitCode: -1,
			Error: fmt.Sprintf("agent %s refused: %s", r.Agent, reply.Error)})
	}
	res, err := db.ExecContext(ctx, `UPDATE remediation_agent_runs SET status = ? WHERE run_id = ? AND status = ?`, arRunning, run, arDispatching)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		ar.s.agents.cancel(r.Agent, run) // cancelled while it was being dispatched
	}
	ar.s.auditRecord(ctx, firstNonEmpty(r.By, r.ReplyKind), "remediation.agent_runs.start", "agent:"+r.Agent,
		fmt.Sprintf("action=%s key=%s run=%s", r.Action, r.Key, run))
	return nil
}

func undispatched(why string) remediationapi.AgentRunResult {
	return remediationapi.AgentRunResult{Status: remediationapi.AgentRunUndispatched, ExitCode: -1, Error: why}
}

// cancel stops a caller's run, or keeps it from starting.
func (ar *agentRuns) cancel(ctx context.Context, _ *jobs.Job, c remediationapi.AgentCancel) error {
	if err := checkReplyTo(c.ReplyKind, c.Key, ar.s.jobs); err != nil {
		return jobs.Cancel(fmt.Errorf("remediation.agent_cancel: %w", err))
	}
	run := agentRunID(c.ReplyKind, c.Key)
	db := ar.s.db
	if _, err := db.ExecContext(ctx, `INSERT INTO remediation_agent_runs (run_id, reply_kind, caller_key, agent, action, status, created_at)
		VALUES (?, ?, ?, '', '', ?, ?) ON CONFLICT DO NOTHING`, run, c.ReplyKind, c.Key, arCancelled, ar.s.now().UnixMilli()); err != nil {
		return fmt.Errorf("remediation.agent_cancel: %w", err)
	}
	var agentName, status string
	if err := db.QueryRowContext(ctx, `SELECT agent, status FROM remediation_agent_runs WHERE run_id = ?`, run).Scan(&agentName, &status); err != nil {
		return fmt.Errorf("remediation.agent_cancel: %w", err)
	}
	switch status {
	case arDispatching:
		if _, err := db.ExecContext(ctx, `UPDATE remediation_agent_runs SET status = ? WHERE run_id = ? AND status = ?`,
			arCancelled, run, arDispatching); err != nil {
			return err
		}
		ar.s.agents.cancel(agentName, run)
	case arRunning:
		ar.s.agents.cancel(agentName, run)
	default:
		return nil
	}
	ar.s.auditRecord(ctx, firstNonEmpty(c.By, c.ReplyKind), "remediation.agent_runs.cancel", "agent:"+agentName,
		fmt.Sprintf("key=%s run=%s", c.Key, run))
	return nil
}

func (ar *agentRuns) remember(run string, r agentRunRoute) {
	ar.mu.Lock()
	ar.routes[run] = r
	ar.mu.Unlock()
}

// route returns where the replies of run go, if agent name runs it.
func (ar *agentRuns) route(ctx context.Context, name, run string) (agentRunRoute, bool) {
	ar.mu.Lock()
	r, ok := ar.routes[run]
	ar.mu.Unlock()
	if !ok {
		err := ar.s.db.QueryRowContext(ctx, `SELECT agent, reply_kind, caller_key FROM remediation_agent_runs WHERE run_id = ?`, run).
			Scan(&r.agent, &r.replyKind, &r.key)
		if err != nil {
			return r, false
		}
		ar.remember(run, r)
	}
	return r, r.agent == name
}

// onOutput passes a chunk of output to the run's caller.
func (ar *agentRuns) onOutput(name string, o agent.Output) {
	ctx := context.Background()
	r, ok := ar.route(ctx, name, o.Run)
	if !ok {
		return
	}
	reply := remediationapi.AgentReply{Key: r.key, Output: &remediationapi.AgentRunOutput{Stream: o.Stream, Seq: o.Seq, Data: o.Data}}
	if _, err := ar.s.jobs.Enqueue(ctx, r.replyKind, reply, nil); err != nil {
		ar.s.log.Warn("pass an agent run's output on", "agent", name, "run", o.Run, "error", err)
	}
}

// onResult passes how a run ended to its caller. An error leaves the
// result unacknowledged, so the agent sends it again.
func (ar *agentRuns) onResult(ctx context.Context, name string, res agent.Result) error {
	r, ok := ar.route(ctx, name, res.Run)
	if !ok {
		return nil // not this agent's, or long gone
	}
	err := ar.finish(ctx, res.Run, r.replyKind, r.key, remediationapi.AgentRunResult{Status: res.Status, ExitCode: res.ExitCode,
		Error: res.Error, Stdout: res.Stdout, Stderr: res.Stderr, Output: res.Output, Truncated: res.Truncated,
		Started: res.Started, Finished: res.Finished})
	if err == nil {
		ar.mu.Lock()
		delete(ar.routes, res.Run)
		ar.mu.Unlock()
	}
	return err
}

// finish marks a run done and enqueues its result for the caller, once.
func (ar *agentRuns) finish(ctx context.Context, run, replyKind, key string, res remediationapi.AgentRunResult) error {
	return ar.s.db.InTx(ctx, func(tx *store.Tx) error {
		upd, err := tx.ExecContext(ctx, `UPDATE remediation_agent_runs SET status = ? WHERE run_id = ? AND status <> ?`, arDone, run, arDone)
		if err != nil {
			return err
		}
		if n, _ := upd.RowsAffected(); n == 0 {
			var one int
			if err := tx.QueryRowContext(ctx, `SELECT 1 FROM remediation_agent_runs WHERE run_id = ?`, run).Scan(&one); errors.Is(err, sql.ErrNoRows) {
				// An invalid request never recorded: record it done.
				if _, err := tx.ExecContext(ctx, `INSERT INTO remediation_agent_runs (run_id, reply_kind, caller_key, agent, action,
					status, created_at) VALUES (?, ?, ?, '', '', ?, ?)`, run, replyKind, key, arDone, ar.s.now().UnixMilli()); err != nil {
					return err
				}
			} else {
				return err // already done: the caller has its result
			}
		}
		_, err = ar.s.jobs.EnqueueTx(ctx, tx, replyKind, remediationapi.AgentReply{Key: key, Result: &res}, nil)
		return err
	})
}

// lost ends the runs on agent name that are not of its life boot (""
// for every run on it): the agent restarted or went silent.
func (ar *agentRuns) lost(ctx context.Context, name, boot, why string) {
	rows, err := ar.s.db.QueryContext(ctx, `SELECT run_id, reply_kind, caller_key, agent_boot FROM remediation_agent_runs
		WHERE agent = ? AND status = ?`, name, arRunning)
	if err != nil {
		return
	}
	var lost []agentRunRoute
	var ids []string
	for rows.Next() {
		var id, b string
		var r agentRunRoute
		if rows.Scan(&id, &r.replyKind, &r.key, &b) == nil && (boot == "" || b != boot) {
			lost = append(lost, r)
			ids = append(ids, id)
		}
	}
	rows.Close()
	now := ar.s.now()
	for i, r := range lost {
		err := ar.finish(ctx, ids[i], r.replyKind, r.key, remediationapi.AgentRunResult{Status: remediationapi.AgentRunLost,
			ExitCode: -1, Error: why, Finished: now})
		if err != nil {
			ar.s.log.Error("end a lost agent run", "agent", name, "run", ids[i], "error", err)
		}
	}
}

// lostSilent ends the runs of agents not heard from since cutoff (ms).
func (ar *agentRuns) lostSilent(ctx context.Context, cutoff int64) {
	rows, err := ar.s.db.QueryContext(ctx, `SELECT DISTINCT r.agent FROM remediation_agent_runs r JOIN remediation_agents a
		ON a.name = r.agent WHERE r.status = ? AND a.last_seen < ?`, arRunning, cutoff)
	if err != nil {
		return
	}
	var silent []string
	for rows.Next() {
		var n string
		if rows.Scan(&n) == nil {
			silent = append(silent, n)
		}
	}
	rows.Close()
	for _, n := range silent {
		ar.lost(ctx, n, "", fmt.Sprintf("agent %s stopped sending heartbeats during the action", n))
	}
}

// isAgentRun reports whether run is an agent run for another system.
func isAgentRun(run string) bool { return strings.HasPrefix(run, agentRunPrefix) }
