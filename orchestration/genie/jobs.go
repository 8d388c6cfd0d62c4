package genie

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/store"
	"github.com/gaffer-sre/gaffer/orchestration/genie/genieapi"
	"github.com/gaffer-sre/gaffer/orchestration/genie/resolve"
	"github.com/gaffer-sre/gaffer/orchestration/workflow/workflowapi"
)

// ClusterCriteria is one of a v3 job request's cluster criteria.
type ClusterCriteria struct {
	Tags []string `json:"tags"`
}

// JobRequest is a v3 job request (POST /api/v3/jobs).
type JobRequest struct {
	Common
	CommandArgs        Args              `json:"commandArgs"`
	ClusterCriterias   []ClusterCriteria `json:"clusterCriterias"`
	CommandCriteria    []string          `json:"commandCriteria"`
	Group              string            `json:"group,omitempty"`
	DisableLogArchival bool              `json:"disableLogArchival"`
	Email              string            `json:"email,omitempty"`
	CPU                *int              `json:"cpu,omitempty"`
	Memory             *int              `json:"memory,omitempty"`
	// Timeout is in seconds.
	Timeout          *int     `json:"timeout,omitempty"`
	Applications     []string `json:"applications"`
	Grouping         string   `json:"grouping,omitempty"`
	GroupingInstance string   `json:"groupingInstance,omitempty"`
}

// resolveRequest is the request in the terms of package resolve.
func (r *JobRequest) resolveRequest() *resolve.Request {
	req := &resolve.Request{JobID: r.ID, Name: r.Name, User: r.User, Tags: r.Tags, Command: resolve.Criterion{Tags: r.CommandCriteria}}
	for _, cc := range r.ClusterCriterias {
		req.Clusters = append(req.Clusters, resolve.Criterion{Tags: cc.Tags})
	}
	return req
}

// validate fills defaults and checks the fields a job needs.
func (r *JobRequest) validate(timeout time.Duration) error {
	if r.ID == "" {
		r.ID = newID()
	}
	r.CommandCriteria = normTags(r.CommandCriteria)
	for i := range r.ClusterCriterias {
		r.ClusterCriterias[i].Tags = normTags(r.ClusterCriterias[i].Tags)
	}
	r.Tags = genieTags(r.Tags, r.ID, r.Name)
	if r.Configs == nil {
		r.Configs = []string{}
	}
	if r.Dependencies == nil {
		r.Dependencies = []string{}
	}
	if r.Applications == nil {
		r.Applications = []string{}
	}
	if r.CommandArgs == nil {
		r.CommandArgs = Args{}
	}
	r.Links, r.Created, r.Updated, r.Status = nil, nil, nil, ""
	switch {
	case strings.TrimSpace(r.Name) == "":
		return errors.New("name: must not be empty")
	case strings.TrimSpace(r.User) == "":
		return errors.New("user: must not be empty")
	case strings.TrimSpace(r.Version) == "":
		return errors.New("version: must not be empty")
	case r.Timeout != nil && *r.Timeout <= 0:
		return fmt.Errorf("timeout: must be a positive number of seconds, got %d", *r.Timeout)
	}
	if err := validID(r.ID); err != nil {
		return err
	}
	if r.Timeout == nil {
		t := int(timeout / time.Second)
		r.Timeout = &t
	}
	return r.resolveRequest().Validate()
}

// validID checks a job id: it names the job's directory and URLs.
func validID(id string) error {
	if len(id) > 255 || id == "." || id == ".." || strings.HasPrefix(id, ".") || strings.ContainsAny(id, "/\\?#% \t\n") {
		return fmt.Errorf("id: %q must be at most 255 characters, not start with '.', and hold no '/', '\\', '?', '#', '%%' or blanks", id)
	}
	return nil
}

// Job is a v3 job (GET /api/v3/jobs/{id}).
type Job struct {
	ID               string          `json:"id"`
	Created          time.Time       `json:"created"`
	Updated          time.Time       `json:"updated"`
	Version          string          `json:"version"`
	User             string          `json:"user"`
	Name             string          `json:"name"`
	Description      string          `json:"description,omitempty"`
	Metadata         json.RawMessage `json:"metadata,omitempty"`
	Tags             []string        `json:"tags"`
	Status           string          `json:"status"`
	StatusMsg        string          `json:"statusMsg"`
	Started          *time.Time      `json:"started"`
	Finished         *time.Time      `json:"finished"`
	ArchiveLocation  string          `json:"archiveLocation,omitempty"`
	ClusterName      string          `json:"clusterName,omitempty"`
	CommandName      string          `json:"commandName,omitempty"`
	Runtime          string          `json:"runtime"`
	CommandArgs      string          `json:"commandArgs"`
	Grouping         string          `json:"grouping,omitempty"`
	GroupingInstance string          `json:"groupingInstance,omitempty"`
	Links            map[string]Link `json:"_links,omitempty"`
}

// JobExecution is a v3 job's execution (GET /api/v3/jobs/{id}/execution).
type JobExecution struct {
	ID         string     `json:"id"`
	Created    time.Time  `json:"created"`
	Updated    time.Time  `json:"updated"`
	HostName   string     `json:"hostName"`
	ProcessID  *int       `json:"processId"`
	CheckDelay int64      `json:"checkDelay"`
	Timeout    *time.Time `json:"timeout"`
	ExitCode   *int       `json:"exitCode"`
	Memory     *int       `json:"memory,omitempty"`
	// ArchiveStatus is PENDING, ARCHIVED, DISABLED or FAILED.
	ArchiveStatus string          `json:"archiveStatus"`
	Links         map[string]Link `json:"_links,omitempty"`
}

// jobRow is a job as stored.
type jobRow struct {
	ID, Name, User, Version, Status, StatusMsg string
	Tags                                       []string
	Request                                    JobRequest
	CommandID, CommandName                     string
	ClusterID, ClusterName                     string
	CommandArgs                                string
	SubmittedBy                                string
	Step                                       *workflowapi.StepJob
	Owner, Host                                string
	PID                                        int
	ExitCode                                   *int
	KillRequested                              bool
	Dir, Archive                               string
	TimeoutS                                   int64
	Created, Updated                           time.Time
	Started, Finished                          *time.Time
}

const jobColumns = `id, name, usr, version, tags, status, status_msg, request, command_id, command_name, cluster_id, cluster_name,
	command_args, submitted_by, step, owner, host, pid, exit_code, kill_requested, dir, archive, timeout_s, created_at, updated_at,
	started_at, finished_at`

type scanner interface{ Scan(dest ...any) error }

func scanJob(sc scanner) (*jobRow, error) {
	var j jobRow
	var tags, req, step string
	var exit, started, finished sql.NullInt64
	var kill int
	var created, updated int64
	err := sc.Scan(&j.ID, &j.Name, &j.User, &j.Version, &tags, &j.Status, &j.StatusMsg, &req, &j.CommandID, &j.CommandName,
		&j.ClusterID, &j.ClusterName, &j.CommandArgs, &j.SubmittedBy, &step, &j.Owner, &j.Host, &j.PID, &exit, &kill, &j.Dir,
		&j.Archive, &j.TimeoutS, &created, &updated, &started, &finished)
	if err != nil {
		return nil, err
	}
	json.Unmarshal([]byte(tags), &j.Tags)
	if err := json.Unmarshal([]byte(req), &j.Request); err != nil {
		return nil, fmt.Errorf("genie: job %s: stored request: %w", j.ID, err)
	}
	if step != "" {
		j.Step = &workflowapi.StepJob{}
		json.Unmarshal([]byte(step), j.Step)
	}
	if exit.Valid {
		e := int(exit.Int64)
		j.ExitCode = &e
	}
	j.KillRequested = kill != 0
	j.Created, j.Updated = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	j.Started, j.Finished = msPtr(started), msPtr(finished)
	return &j, nil
}

func msPtr(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := time.UnixMilli(v.Int64).UTC()
	return &t
}

// getJob loads a job.
func (s *Service) getJob(ctx context.Context, id string) (*jobRow, error) {
	j, err := scanJob(s.db.QueryRowContext(ctx, `SELECT `+jobColumns+` FROM genie_jobs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: job %q", ErrNotFound, id)
	}
	return j, err
}

// view is the v3 shape of a job.
func (j *jobRow) view(now time.Time) Job {
	v := Job{ID: j.ID, Created: j.Created, Updated: j.Updated, Version: j.Version, User: j.User, Name: j.Name,
		Description: j.Request.Description, Metadata: j.Request.Metadata, Tags: j.Tags, Status: j.Status, StatusMsg: j.StatusMsg,
		Started: j.Started, Finished: j.Finished, ClusterName: j.ClusterName, CommandName: j.CommandName, CommandArgs: j.CommandArgs,
		Grouping: j.Request.Grouping, GroupingInstance: j.Request.GroupingInstance, Runtime: "PT0S"}
	if j.Archive != "" {
		v.ArchiveLocation = "file://" + j.Archive
	}
	if j.Started != nil {
		end := now
		if j.Finished != nil {
			end = *j.Finished
		}
		v.Runtime = isoDuration(end.Sub(*j.Started))
	}
	v.Links = jobLinks(j.ID)
	return v
}

// isoDuration renders d as an ISO-8601 duration in seconds ("PT1.5S"),
// as Genie's runtime.
func isoDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	return "PT" + strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.3f", d.Seconds()), "0"), ".") + "S"
}

func jobLinks(id string) map[string]Link {
	base := jobsPath + "/" + id
	return map[string]Link{"self": {base}, "request": {base + "/request"}, "execution": {base + "/execution"},
		"output": {base + "/output"}, "status": {base + "/status"}, "cluster": {base + "/cluster"}, "command": {base + "/command"},
		"applications": {base + "/applications"}}
}

// errLimit is returned (wrapped) when a user has too many active jobs.
var errLimit = errors.New("too many active jobs")

// submit stores a job, resolves it and queues it to run, in one
// transaction. A request that cannot be resolved is stored INVALID and
// its error wraps resolve.ErrNoCommand or ErrNoCluster. step, when set,
// is the workflow step the job runs for.
func (s *Service) submit(ctx context.Context, req JobRequest, by string, step *workflowapi.StepJob) (*jobRow, error) {
	if err := req.validate(s.set.DefaultTimeout); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	for _, a := range req.Applications {
		if _, err := s.getResource(ctx, kindApplication, a); err != nil {
			return nil, fmt.Errorf("%w: applications: %w", ErrInvalid, err)
		}
	}
	idx, err := s.index(ctx)
	if err != nil {
		return nil, err
	}
	res, rerr := idx.Resolve(ctx, req.resolveRequest(), resolve.Options{Selector: s.selector})
	now := s.now().UnixMilli()
	j := &jobRow{ID: req.ID, Name: req.Name, User: req.User, Version: req.Version, Tags: req.Tags, Request: req,
		CommandArgs: JoinArgs(req.CommandArgs), SubmittedBy: by, Step: step, TimeoutS: int64(*req.Timeout),
		Status: genieapi.StatusResolved, StatusMsg: "Job resolved; waiting to be claimed"}
	switch {
	case errors.Is(rerr, resolve.ErrNoCommand) || errors.Is(rerr, resolve.ErrNoCluster):
		j.Status, j.StatusMsg = genieapi.StatusInvalid, "Resolution failed: "+rerr.Error()
	case rerr != nil:
		return nil, rerr
	default:
		j.CommandID, j.CommandName, j.ClusterID, j.ClusterName = res.Command.ID, res.Command.Name, res.Cluster.ID, res.Cluster.Name
	}
	reqJSON, _ := json.Marshal(req)
	tags, _ := json.Marshal(j.Tags)
	stepJSON := ""
	if step != nil {
		b, _ := json.Marshal(step)
		stepJSON = string(b)
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if s.set.UserActiveLimit > 0 && j.Status != genieapi.StatusInvalid {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM genie_jobs WHERE usr = ? AND status IN (?, ?, ?, ?, ?)`,
				j.User, genieapi.StatusAccepted, genieapi.StatusResolved, genieapi.StatusClaimed, genieapi.StatusInit,
				genieapi.StatusRunning).Scan(&n); err != nil {
				return err
			}
			if n >= s.set.UserActiveLimit {
				return fmt.Errorf("%w: user %s has %d unfinished jobs, the limit is %d", errLimit, j.User, n, s.set.UserActiveLimit)
			}
		}
		var finished any
		if j.Status == genieapi.StatusInvalid {
			finished = now
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO genie_jobs (`+jobColumns+`, heartbeat) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
			'', '', 0, NULL, 0, '', '', ?, ?, ?, NULL, ?, 0)`,
			j.ID, j.Name, j.User, j.Version, string(tags), j.Status, j.StatusMsg, string(reqJSON), j.CommandID, j.CommandName,
			j.ClusterID, j.ClusterName, j.CommandArgs, by, stepJSON, j.TimeoutS, now, now, finished)
		if store.IsUniqueViolation(err) {
			return fmt.Errorf("%w: job %q already exists", ErrConflict, j.ID)
		}
		if err != nil {
			return err
		}
		if j.Status == genieapi.StatusInvalid {
			return s.finishedTx(ctx, tx, j)
		}
		_, err = s.jobs.EnqueueTx(ctx, tx, launchKind, launchArgs{Job: j.ID}, nil)
		return err
	})
	if err != nil {
		return nil, err
	}
	j.Created, j.Updated = time.UnixMilli(now).UTC(), time.UnixMilli(now).UTC()
	if j.Status == genieapi.StatusInvalid {
		return j, fmt.Errorf("job %s: %w", j.ID, rerr)
	}
	return j, nil
}
