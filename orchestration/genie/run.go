package genie

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/bus"
	"github.com/gaffer-sre/gaffer/internal/platform/jobs"
	"github.com/gaffer-sre/gaffer/internal/platform/store"
	"github.com/gaffer-sre/gaffer/orchestration/genie/genieapi"
	"github.com/gaffer-sre/gaffer/orchestration/workflow/workflowapi"
)

// launchKind is the queue job that claims a resolved Genie job and
// starts it; it is enqueued in the transaction that stores the job.
const launchKind = "genie.launch"

type launchArgs struct {
	Job string `json:"job"`
}

// killGrace is how long a killed job's processes have between SIGTERM
// and SIGKILL.
const killGrace = 5 * time.Second

// Status messages, as Genie words them.
const (
	msgSucceeded = "Job finished successfully."
	msgKilled    = "Job was killed."
	msgTimedOut  = "Job exceeded its timeout."
	msgStopped   = "Job was killed: the Gaffer process running it stopped."
	msgLost      = "Job lost: the Gaffer process running it stopped renewing it."
)

// run is a job this process runs.
type run struct {
	mu     sync.Mutex
	proc   Process
	reason string // why it was killed; "" while it was not
}

// kill stops the run's process (or, before it starts, keeps it from
// starting) and records why.
func (r *run) kill(reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.reason == "" {
		r.reason = reason
	}
	if r.proc != nil {
		r.proc.Kill(killGrace)
	}
}

func (r *run) killedFor() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reason
}

func (s *Service) registerJobs() {
	jobs.HandleFunc(s.jobs, launchKind, jobs.KindOptions{MaxAttempts: 5, Timeout: time.Minute}, s.launch)
	s.registerRunner()
	s.registerCleanup()
	s.registerAgentReplies()
}

// launch claims a RESOLVED job for this process and starts it. A job
// already claimed (a repeated attempt) or killed meanwhile is left alone.
func (s *Service) launch(ctx context.Context, _ *jobs.Job, a launchArgs) error {
	s.mu.Lock()
	stopped := s.stopped
	s.mu.Unlock()
	if stopped {
		return errors.New("genie: stopping; the job is left for another process")
	}
	now := s.now().UnixMilli()
	j, err := scanJob(s.db.QueryRowContext(ctx, `UPDATE genie_jobs SET status = ?, status_msg = ?, owner = ?, host = ?, heartbeat = ?,
		updated_at = ? WHERE id = ? AND status = ? RETURNING `+jobColumns,
		genieapi.StatusClaimed, "Job claimed by "+s.host, s.owner, s.host, now, now, a.Job, genieapi.StatusResolved))
	if errors.Is(err, sql.ErrNoRows) {
		return nil // claimed before, or killed
	}
	if err != nil {
		return err
	}
	s.startWatch()
	r := &run{}
	s.mu.Lock()
	if s.stopped {
		// Stop came after the check above: give the job back.
		s.mu.Unlock()
		if _, err := s.db.ExecContext(ctx, `UPDATE genie_jobs SET status = ?, owner = '' WHERE id = ? AND owner = ? AND status = ?`,
			genieapi.StatusResolved, j.ID, s.owner, genieapi.StatusClaimed); err != nil {
			return err
		}
		return errors.New("genie: stopping; the job is left for another process")
	}
	s.running[j.ID] = r
	s.mu.Unlock()
	s.runs.Add(1)
	go func() {
		defer s.runs.Done()
		s.execute(j, r)
		s.mu.Lock()
		delete(s.running, j.ID)
		s.mu.Unlock()
	}()
	return nil
}

// execute stages, runs and settles a claimed job.
func (s *Service) execute(j *jobRow, r *run) {
	ctx := context.Background()
	var jl *jobLog
	end := func(status, msg string, exit *int) {
		jl.printf("job ended %s: %s", status, msg)
		jl.close()
		if err := s.finish(ctx, j, status, msg, exit); err != nil {
			s.log.Error("record the end of a job", "job", j.ID, "error", err)
		}
	}
	dir := filepath.Join(s.jobsDir, j.ID)
	if err := s.setStatus(ctx, j.ID, genieapi.StatusInit, "Staging the job's directory", map[string]any{"dir": dir}); err != nil {
		end(genieapi.StatusFailed, "Job failed to start: "+err.Error(), nil)
		return
	}
	j.Dir = dir
	jl = openJobLog(dir, s.now)
	jl.printf("job %s claimed by %s: command %s (%s) on cluster %s (%s)", j.ID, s.host, j.CommandName, j.CommandID, j.ClusterName, j.ClusterID)
	spec, err := s.prepare(ctx, j, dir)
	if err != nil {
		end(genieapi.StatusFailed, "Job failed to start: "+err.Error(), nil)
		return
	}
	writeEnvLog(dir, spec.Env)
	jl.printf("staged; running %s", JoinArgs(spec.Argv))
	defer spec.Stdout.Close()
	defer spec.Stderr.Close()
	r.mu.Lock()
	if r.reason != "" {
		r.mu.Unlock()
		end(genieapi.StatusKilled, r.reason, nil)
		return
	}
	ex := s.exec
	if spec.Agent != "" {
		ex = s.agentExec
		jl.printf("the cluster's agent %s runs the job", spec.Agent)
	}
	proc, err := ex.Start(spec)
	if err == nil {
		r.proc = proc
	}
	r.mu.Unlock()
	if err != nil {
		end(genieapi.StatusFailed, "Job failed to start: "+err.Error(), nil)
		return
	}
	jl.printf("started process %d; timeout %ds", proc.PID(), j.TimeoutS)
	if err := s.setStatus(ctx, j.ID, genieapi.StatusRunning, "Job is running", map[string]any{"pid": proc.PID(), "started_at": s.now().UnixMilli()}); err != nil {
		s.log.Error("record a running job", "job", j.ID, "error", err)
	}
	timer := time.AfterFunc(time.Duration(j.TimeoutS)*time.Second, func() { r.kill(msgTimedOut) })
	code, werr := proc.Wait()
	timer.Stop()
	switch reason := r.killedFor(); {
	case reason != "":
		end(genieapi.StatusKilled, reason, &code)
	case errors.As(werr, new(*agentRunError)):
		end(genieapi.StatusFailed, "Job failed on its agent: "+werr.Error(), nil)
	case werr != nil:
		end(genieapi.StatusFailed, "Job's process could not be waited for: "+werr.Error(), nil)
	case code == 0:
		end(genieapi.StatusSucceeded, msgSucceeded, &code)
	default:
		end(genieapi.StatusFailed, fmt.Sprintf("Job failed with exit code %d.", code), &code)
	}
}

// prepare stages the job's directory and returns its process's spec.
func (s *Service) prepare(ctx context.Context, j *jobRow, dir string) (ExecSpec, error) {
	var spec ExecSpec
	docs, err := s.snapshot(ctx)
	if err != nil {
		return spec, err
	}
	d, err := docs.get(kindCommand, j.CommandID)
	if err != nil {
		return spec, err
	}
	cmd := d.(*commandRow)
	if d, err = docs.get(kindCluster, j.ClusterID); err != nil {
		return spec, err
	}
	cl := d.(*Cluster)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return spec, err
	}
	sets := []stageSet{{under: filepath.Join("genie", "cluster", cl.ID), configs: cl.Configs, dependencies: cl.Dependencies, setupFile: cl.SetupFile}}
	apps := cmd.Apps
	if len(j.Request.Applications) > 0 {
		apps = j.Request.Applications
	}
	for _, id := range apps {
		d, err := docs.get(kindApplication, id)
		if err != nil {
			return spec, err
		}
		a := d.(*Application)
		sets = append(sets, stageSet{under: filepath.Join("genie", "applications", a.ID), configs: a.Configs, dependencies: a.Dependencies, setupFile: a.SetupFile})
	}
	sets = append(sets, stageSet{under: filepath.Join("genie", "command", cmd.ID), configs: cmd.Configs, dependencies: cmd.Dependencies, setupFile: cmd.SetupFile},
		stageSet{under: ".", configs: j.Request.Configs, dependencies: j.Request.Dependencies, setupFile: j.Request.SetupFile})
	setups, err := s.stage(ctx, dir, sets)
	if err != nil {
		return spec, err
	}
	argv := append(append([]string(nil), cmd.ExecutableAndArguments...), j.Request.CommandArgs...)
	if len(setups) > 0 {
		script := "set -e"
		for _, f := range setups {
			script += "; . " + JoinArgs([]string{"./" + f})
		}
		argv = append([]string{"/bin/sh", "-c", script + `; set +e; exec "$@"`, "genie-job"}, argv...)
	}
	spec = ExecSpec{Dir: dir, Argv: argv, Env: jobEnv(j, cmd, cl, dir), JobID: j.ID, Agent: clusterAgent(cl.Tags),
		Timeout: time.Duration(j.TimeoutS) * time.Second}
	if spec.Stdout, err = os.Create(filepath.Join(dir, "stdout")); err != nil {
		return spec, err
	}
	if spec.Stderr, err = os.Create(filepath.Join(dir, "stderr")); err != nil {
		spec.Stdout.Close()
		return spec, err
	}
	return spec, nil
}

// jobEnv is a job process's whole environment: a plain PATH and the
// GENIE_ variables Genie sets.
func jobEnv(j *jobRow, cmd *commandRow, cl *Cluster, dir string) []string {
	var clusterTags []string
	for _, cc := range j.Request.ClusterCriterias {
		clusterTags = append(clusterTags, "["+strings.Join(cc.Tags, ",")+"]")
	}
	env := []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + dir, "LANG=C.UTF-8",
		"GENIE_JOB_ID=" + j.ID, "GENIE_JOB_NAME=" + j.Name, "GENIE_USER=" + j.User, "GENIE_JOB_DIR=" + dir,
		"GENIE_JOB_TAGS=" + strings.Join(j.Tags, ","), "GENIE_VERSION=4",
		"GENIE_CLUSTER_ID=" + cl.ID, "GENIE_CLUSTER_NAME=" + cl.Name, "GENIE_CLUSTER_TAGS=" + strings.Join(cl.Tags, ","),
		"GENIE_COMMAND_ID=" + cmd.ID, "GENIE_COMMAND_NAME=" + cmd.Name, "GENIE_COMMAND_TAGS=" + strings.Join(cmd.Tags, ","),
		"GENIE_REQUESTED_COMMAND_TAGS=" + strings.Join(j.Request.CommandCriteria, ","),
		"GENIE_REQUESTED_CLUSTER_TAGS=" + strings.Join(clusterTags, ",")}
	if j.Request.Memory != nil {
		env = append(env, fmt.Sprintf("GENIE_JOB_MEMORY=%d", *j.Request.Memory))
	}
	return env
}

// setStatus moves a job this process runs to status, with extra columns.
func (s *Service) setStatus(ctx context.Context, id, status, msg string, cols map[string]any) error {
	q := `UPDATE genie_jobs SET status = ?, status_msg = ?, updated_at = ?`
	args := []any{status, msg, s.now().UnixMilli()}
	for _, c := range []string{"dir", "pid", "started_at"} {
		if v, ok := cols[c]; ok {
			q += ", " + c + " = ?"
			args = append(args, v)
		}
	}
	args = append(args, id, s.owner)
	return s.update(ctx, q+` WHERE id = ? AND owner = ?`, args...)
}

// finish records how a job ended, archives its directory, and tells the
// workflow step it ran for, if any.
func (s *Service) finish(ctx context.Context, j *jobRow, status, msg string, exit *int) error {
	archive := ""
	if j.Dir != "" && !j.Request.DisableLogArchival {
		p := filepath.Join(s.archDir, j.ID+".tar.gz")
		if err := archiveDir(j.Dir, p); err != nil {
			s.log.Warn("archive a job's directory", "job", j.ID, "error", err)
		} else {
			archive = p
		}
	}
	j.Status, j.StatusMsg, j.ExitCode, j.Archive = status, msg, exit, archive
	now := s.now().UnixMilli()
	const settle = `UPDATE genie_jobs SET status = ?, status_msg = ?, exit_code = ?, archive = ?, finished_at = ?,
		updated_at = ? WHERE id = ? AND status IN (?, ?, ?)`
	args := []any{status, msg, exit, archive, now, now, j.ID, genieapi.StatusClaimed, genieapi.StatusInit, genieapi.StatusRunning}
	var err error
	if j.Step == nil {
		// One statement, not a transaction: the single SQLite connection
		// is what every job and request waits for.
		err = s.update(ctx, settle, args...)
	} else {
		err = s.db.InTx(ctx, func(tx *store.Tx) error {
			res, err := tx.ExecContext(ctx, settle, args...)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return nil // already settled (lost, then found)
			}
			return s.finishedTx(ctx, tx, j)
		})
	}
	if err == nil {
		s.publishEnd(ctx, j)
	}
	return err
}

// finishedTx enqueues, in tx, the StepDone of the workflow step a
// finished job ran for.
func (s *Service) finishedTx(ctx context.Context, tx *store.Tx, j *jobRow) error {
	if j.Step == nil {
		return nil
	}
	outcome := workflowapi.OutcomeSucceeded
	switch j.Status {
	case genieapi.StatusSucceeded:
	case genieapi.StatusInvalid:
		outcome = workflowapi.OutcomeFatal
	case genieapi.StatusKilled:
		outcome = workflowapi.OutcomeFatal
	default:
		outcome = workflowapi.OutcomeFailed
		if strings.HasPrefix(j.StatusMsg, "Job lost") || j.StatusMsg == msgStopped {
			outcome = workflowapi.OutcomePlatformFailed
		}
	}
	outputs := map[string]any{"job_id": j.ID, "status": j.Status, "cluster": j.ClusterName, "command": j.CommandName}
	if j.ExitCode != nil {
		outputs["exit_code"] = *j.ExitCode
	}
	errText := ""
	if outcome != workflowapi.OutcomeSucceeded {
		errText = fmt.Sprintf("Genie job %s %s: %s", j.ID, j.Status, j.StatusMsg)
	}
	done := j.Step.DoneFor(outcome, outputs, errText)
	done.Ref = "/genie/jobs/" + j.ID
	_, err := s.jobs.EnqueueTx(ctx, tx, workflowapi.StepDoneKind, done, nil)
	return err
}

// publishEnd publishes the end of a job on the bus (best effort).
func (s *Service) publishEnd(ctx context.Context, j *jobRow) {
	if s.bus == nil {
		return
	}
	data, _ := json.Marshal(map[string]any{"id": j.ID, "name": j.Name, "user": j.User, "status": j.Status, "statusMsg": j.StatusMsg,
		"clusterName": j.ClusterName, "commandName": j.CommandName, "exitCode": j.ExitCode})
	ev := &bus.Event{ID: "genie-job-" + j.ID, Source: "/gaffer/genie", Type: genieapi.JobEventPrefix + strings.ToLower(j.Status),
		Subject: j.ID, Time: s.now().UTC(), Data: data}
	if _, err := s.bus.Publish(ctx, ev); err != nil {
		s.log.Warn("publish a job's end", "job", j.ID, "error", err)
	}
}

// killJob stops a job: one not yet claimed ends KILLED at once; a
// claimed one is killed by the process running it, which records the end.
func (s *Service) killJob(ctx context.Context, id string) (*jobRow, error) {
	j, err := s.getJob(ctx, id)
	if err != nil {
		return nil, err
	}
	if !genieapi.Active(j.Status) {
		return j, nil
	}
	now := s.now().UnixMilli()
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE genie_jobs SET status = ?, status_msg = ?, finished_at = ?, updated_at = ?
			WHERE id = ? AND status IN (?, ?)`, genieapi.StatusKilled, msgKilled, now, now, id, genieapi.StatusAccepted, genieapi.StatusResolved)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n > 0 {
			j.Status, j.StatusMsg = genieapi.StatusKilled, msgKilled
			return s.finishedTx(ctx, tx, j)
		}
		_, err = tx.ExecContext(ctx, `UPDATE genie_jobs SET kill_requested = 1, updated_at = ? WHERE id = ?`, now, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	r := s.running[id]
	s.mu.Unlock()
	if r != nil {
		r.kill(msgKilled)
	}
	return j, nil
}

// watchEvery is how often a process renews its jobs and looks for kills
// requested elsewhere.
const watchEvery = 2 * time.Second

// watch renews this process's jobs, applies kill requests made through
// other processes and settles jobs whose process stopped renewing them.
func (s *Service) watch() {
	t := time.NewTicker(watchEvery)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := s.sweep(ctx); err != nil {
			s.log.Warn("genie: renew jobs", "error", err)
		}
		cancel()
	}
}

func (s *Service) sweep(ctx context.Context) error {
	now := s.now().UnixMilli()
	if _, err := s.db.ExecContext(ctx, `UPDATE genie_jobs SET heartbeat = ? WHERE owner = ? AND status IN (?, ?, ?)`,
		now, s.owner, genieapi.StatusClaimed, genieapi.StatusInit, genieapi.StatusRunning); err != nil {
		return err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM genie_jobs WHERE owner = ? AND kill_requested = 1 AND status IN (?, ?, ?)`,
		s.owner, genieapi.StatusClaimed, genieapi.StatusInit, genieapi.StatusRunning)
	if err != nil {
		return err
	}
	var kill []string
	for rows.Next() {
		var id string
		rows.Scan(&id)
		kill = append(kill, id)
	}
	rows.Close()
	for _, id := range kill {
		s.mu.Lock()
		r := s.running[id]
		s.mu.Unlock()
		if r != nil {
			r.kill(msgKilled)
		}
	}
	rows, err = s.db.QueryContext(ctx, `SELECT `+jobColumns+` FROM genie_jobs WHERE status IN (?, ?, ?) AND heartbeat < ? AND owner <> ?`,
		genieapi.StatusClaimed, genieapi.StatusInit, genieapi.StatusRunning, now-s.set.LostAfter.Milliseconds(), s.owner)
	if err != nil {
		return err
	}
	var lost []*jobRow
	for rows.Next() {
		if j, err := scanJob(rows); err == nil {
			lost = append(lost, j)
		}
	}
	rows.Close()
	for _, j := range lost {
		j.Dir = "" // on another host, or gone with its process
		if err := s.finish(ctx, j, genieapi.StatusFailed, msgLost, nil); err != nil {
			return err
		}
		if err := s.cancelOnAgent(ctx, j); err != nil {
			s.log.Warn("genie: stop a lost job on its agent", "job", j.ID, "error", err)
		}
	}
	return nil
}
