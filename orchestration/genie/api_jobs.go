package genie

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
	"github.com/gaffer-sre/gaffer/orchestration/genie/genieapi"
	"github.com/gaffer-sre/gaffer/orchestration/genie/resolve"
)

func (s *Service) jobRoutes(r *httpapi.Router) {
	r.Handle(httpapi.Route{Method: "POST", Path: jobsPath, Scope: ScopeWrite, Action: "genie.job.submit",
		Summary: "Submit a job (Genie v3 JobRequest); 202 with its Location, 412 when no command or cluster matches, 429 over the user's limit",
		Request: JobRequest{}, Handler: s.apiSubmit})
	r.Handle(httpapi.Route{Method: "POST", Path: jobsPath + "/explain", Scope: ScopeRead, Unaudited: true, Action: "genie.job.explain",
		Summary: "Resolve a job request without submitting it, saying why each command and cluster was kept or dropped",
		Request: JobRequest{}, Response: Explained{}, Handler: s.apiExplain})
	r.Handle(httpapi.Route{Method: "GET", Path: jobsPath, Scope: ScopeRead, Summary: "Find jobs, newest first (Genie v3)",
		Query: []httpapi.Param{{Name: "id", Description: "id, with SQL LIKE wildcards"}, {Name: "name", Description: "name, with SQL LIKE wildcards"},
			{Name: "user", Description: "user"}, {Name: "status", Description: "a status; repeatable"}, {Name: "tag", Description: "a tag; repeatable"},
			{Name: "clusterName", Description: "cluster name"}, {Name: "commandName", Description: "command name"},
			{Name: "page", Description: "page number from 0"}, {Name: "size", Description: "page size (default 10, at most 1000)"}},
		Response: List{}, Handler: s.apiJobs})
	r.Handle(httpapi.Route{Method: "GET", Path: jobsPath + "/{id}", Scope: ScopeRead, Summary: "A job", Response: Job{}, Handler: s.apiJob})
	r.Handle(httpapi.Route{Method: "GET", Path: jobsPath + "/{id}/status", Scope: ScopeRead, Summary: "A job's status",
		Response: map[string]string{}, Handler: s.apiJobStatus})
	r.Handle(httpapi.Route{Method: "GET", Path: jobsPath + "/{id}/request", Scope: ScopeRead, Summary: "A job's request as submitted",
		Response: JobRequest{}, Handler: s.apiJobRequest})
	r.Handle(httpapi.Route{Method: "GET", Path: jobsPath + "/{id}/execution", Scope: ScopeRead, Summary: "Where and how a job runs",
		Response: JobExecution{}, Handler: s.apiJobExecution})
	r.Handle(httpapi.Route{Method: "GET", Path: jobsPath + "/{id}/cluster", Scope: ScopeRead, Summary: "The cluster a job runs on",
		Response: Cluster{}, Handler: s.apiJobResource(kindCluster)})
	r.Handle(httpapi.Route{Method: "GET", Path: jobsPath + "/{id}/command", Scope: ScopeRead, Summary: "The command a job runs",
		Response: Command{}, Handler: s.apiJobResource(kindCommand)})
	r.Handle(httpapi.Route{Method: "GET", Path: jobsPath + "/{id}/applications", Scope: ScopeRead, Summary: "The applications staged for a job",
		Response: []Application{}, Handler: s.apiJobApplications})
	r.Handle(httpapi.Route{Method: "GET", Path: jobsPath + "/{id}/output", Scope: ScopeRead,
		Summary: "A job's working directory: a listing (JSON)", Response: Directory{}, Handler: s.apiOutput})
	r.Handle(httpapi.Route{Method: "GET", Path: jobsPath + "/{id}/output/{path...}", Scope: ScopeRead,
		Summary: "A file of a job's working directory (Range requests work), or a directory's listing", Handler: s.apiOutput})
	r.Handle(httpapi.Route{Method: "DELETE", Path: jobsPath + "/{id}", Scope: ScopeWrite, Action: "genie.job.kill",
		Summary: "Kill a job; 202", Handler: s.apiKill})
}

func (s *Service) apiSubmit(w http.ResponseWriter, r *http.Request) error {
	var req JobRequest
	var placed string
	if isMultipart(r) {
		var incoming string
		var err error
		if req, incoming, err = s.readMultipart(w, r); err != nil {
			return err
		}
		if incoming != "" {
			if req.ID == "" {
				req.ID = newID()
			}
			if err := validID(req.ID); err != nil {
				os.RemoveAll(incoming)
				return apiError(fmt.Errorf("%w: %w", ErrInvalid, err))
			}
			if placed, err = s.placeAttachments(req.ID, incoming); err != nil {
				os.RemoveAll(incoming)
				return apiError(err)
			}
		}
	} else if err := httpapi.DecodeJSON(r, &req); err != nil {
		return err
	}
	job, err := s.submit(r.Context(), req, actor(r), nil)
	if err != nil && placed != "" && (job == nil || !errors.Is(err, resolve.ErrNoCommand) && !errors.Is(err, resolve.ErrNoCluster)) {
		os.RemoveAll(placed) // no job owns it
	}
	if job != nil {
		httpapi.SetAuditTarget(r, "job:"+job.ID)
		w.Header().Set("Location", jobsPath+"/"+job.ID)
	}
	if err != nil {
		return apiError(err)
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}

// Explained is what POST /api/v3/jobs/explain returns.
type Explained struct {
	// Command and Cluster are the names resolution chose ("" when none).
	Command     string               `json:"command"`
	CommandID   string               `json:"commandId"`
	Cluster     string               `json:"cluster"`
	ClusterID   string               `json:"clusterId"`
	Criterion   string               `json:"criterion,omitempty"`
	Candidates  int                  `json:"candidates"`
	Rationale   string               `json:"rationale,omitempty"`
	Error       string               `json:"error,omitempty"`
	Explanation *resolve.Explanation `json:"explanation"`
}

func (s *Service) apiExplain(w http.ResponseWriter, r *http.Request) error {
	var req JobRequest
	if err := httpapi.DecodeJSON(r, &req); err != nil {
		return err
	}
	out, err := s.explain(r.Context(), req)
	if err != nil {
		return apiError(err)
	}
	return httpapi.WriteJSON(w, http.StatusOK, out)
}

// explain resolves req without submitting it.
func (s *Service) explain(ctx context.Context, req JobRequest) (*Explained, error) {
	if err := req.validate(s.set.DefaultTimeout); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	idx, err := s.index(ctx)
	if err != nil {
		return nil, err
	}
	res, err := idx.Resolve(ctx, req.resolveRequest(), resolve.Options{Selector: s.selector, Explain: true})
	if res == nil {
		return nil, err
	}
	out := &Explained{Candidates: res.Candidates, Rationale: res.Rationale, Explanation: res.Explanation}
	if err != nil {
		out.Error = err.Error()
	}
	if res.Command != nil {
		out.Command, out.CommandID = res.Command.Name, res.Command.ID
	}
	if res.Cluster != nil {
		out.Cluster, out.ClusterID, out.Criterion = res.Cluster.Name, res.Cluster.ID, res.Criterion.String()
	}
	return out, nil
}

// JobSearchResult is one job of a v3 job search.
type JobSearchResult struct {
	ID          string          `json:"id"`
	Name        string          `json:"name"`
	User        string          `json:"user"`
	Status      string          `json:"status"`
	Started     *time.Time      `json:"started"`
	Finished    *time.Time      `json:"finished"`
	ClusterName string          `json:"clusterName,omitempty"`
	CommandName string          `json:"commandName,omitempty"`
	Runtime     string          `json:"runtime"`
	Links       map[string]Link `json:"_links"`
}

// jobFilter narrows a job search.
type jobFilter struct {
	ID, Name, User, Cluster, Command string
	Statuses, Tags                   []string
	// Offset and Limit select a page (Limit 0: 10,000).
	Offset, Limit int
}

// where is the filter's SQL condition and arguments.
func (f jobFilter) where() (string, []any) {
	q := ` WHERE 1 = 1`
	var args []any
	for _, c := range []struct{ col, v, op string }{{"id", f.ID, "LIKE"}, {"name", f.Name, "LIKE"}, {"usr", f.User, "="},
		{"cluster_name", f.Cluster, "="}, {"command_name", f.Command, "="}} {
		if c.v != "" {
			q += " AND " + c.col + " " + c.op + " ?"
			args = append(args, c.v)
		}
	}
	if len(f.Statuses) > 0 {
		q += ` AND status IN (?` + strings.Repeat(", ?", len(f.Statuses)-1) + `)`
		for _, st := range f.Statuses {
			args = append(args, strings.ToUpper(st))
		}
	}
	for _, t := range f.Tags {
		// tags is a JSON list: a tag is a quoted element. LIKE's own
		// wildcards in the tag are escaped.
		q += ` AND tags LIKE ? ESCAPE '\'`
		tj, _ := json.Marshal(t)
		args = append(args, "%"+strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(string(tj))+"%")
	}
	return q, args
}

// findJobs returns the page of jobs f selects, newest first, and how
// many it selects in all.
func (s *Service) findJobs(ctx context.Context, f jobFilter) ([]*jobRow, int, error) {
	where, args := f.where()
	var total int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM genie_jobs`+where, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	if f.Limit <= 0 {
		f.Limit = 10000
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+jobColumns+` FROM genie_jobs`+where+` ORDER BY created_at DESC, id LIMIT ? OFFSET ?`,
		append(args, f.Limit, f.Offset)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []*jobRow
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, j)
	}
	return out, total, rows.Err()
}

func (s *Service) apiJobs(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	num, size, err := page(r)
	if err != nil {
		return err
	}
	found, total, err := s.findJobs(r.Context(), jobFilter{ID: q.Get("id"), Name: q.Get("name"), User: q.Get("user"), Cluster: q.Get("clusterName"),
		Command: q.Get("commandName"), Statuses: q["status"], Tags: q["tag"], Offset: num * size, Limit: size})
	if err != nil {
		return err
	}
	now := s.now()
	items := make([]JobSearchResult, len(found))
	for i, j := range found {
		v := j.view(now)
		items[i] = JobSearchResult{ID: v.ID, Name: v.Name, User: v.User, Status: v.Status, Started: v.Started, Finished: v.Finished,
			ClusterName: v.ClusterName, CommandName: v.CommandName, Runtime: v.Runtime, Links: map[string]Link{"self": {jobsPath + "/" + v.ID}}}
	}
	return httpapi.WriteJSON(w, http.StatusOK, List{Embedded: map[string]any{"jobSearchResultList": items},
		Links: map[string]Link{"self": {r.URL.RequestURI()}},
		Page:  PageInfo{Size: size, TotalElements: total, TotalPages: (total + size - 1) / size, Number: num}})
}

func (s *Service) apiJob(w http.ResponseWriter, r *http.Request) error {
	j, err := s.getJob(r.Context(), r.PathValue("id"))
	if err != nil {
		return apiError(err)
	}
	v := j.view(s.now())
	// Genie's links are absolute; pygenie builds its output and job
	// links from the host of "self".
	base := "http://" + r.Host
	if r.TLS != nil {
		base = "https://" + r.Host
	}
	for k, l := range v.Links {
		v.Links[k] = Link{base + l.Href}
	}
	return httpapi.WriteJSON(w, http.StatusOK, v)
}

func (s *Service) apiJobStatus(w http.ResponseWriter, r *http.Request) error {
	j, err := s.getJob(r.Context(), r.PathValue("id"))
	if err != nil {
		return apiError(err)
	}
	return httpapi.WriteJSON(w, http.StatusOK, map[string]string{"status": j.Status})
}

func (s *Service) apiJobRequest(w http.ResponseWriter, r *http.Request) error {
	j, err := s.getJob(r.Context(), r.PathValue("id"))
	if err != nil {
		return apiError(err)
	}
	req := j.Request
	req.Created, req.Updated = &j.Created, &j.Created
	req.Links = map[string]Link{"self": {jobsPath + "/" + j.ID + "/request"}, "job": {jobsPath + "/" + j.ID}}
	return httpapi.WriteJSON(w, http.StatusOK, req)
}

func (s *Service) apiJobExecution(w http.ResponseWriter, r *http.Request) error {
	j, err := s.getJob(r.Context(), r.PathValue("id"))
	if err != nil {
		return apiError(err)
	}
	return httpapi.WriteJSON(w, http.StatusOK, j.execution())
}

// execution is the v3 JobExecution of a job.
func (j *jobRow) execution() JobExecution {
	e := JobExecution{ID: j.ID, Created: j.Created, Updated: j.Updated, HostName: j.Host, ExitCode: j.ExitCode,
		Memory: j.Request.Memory, ArchiveStatus: "PENDING",
		Links: map[string]Link{"self": {jobsPath + "/" + j.ID + "/execution"}, "job": {jobsPath + "/" + j.ID}}}
	if j.PID > 0 {
		pid := j.PID
		e.ProcessID = &pid
	}
	if j.Started != nil {
		t := j.Started.Add(time.Duration(j.TimeoutS) * time.Second)
		e.Timeout = &t
	}
	switch {
	case j.Request.DisableLogArchival:
		e.ArchiveStatus = "DISABLED"
	case j.Archive != "":
		e.ArchiveStatus = "ARCHIVED"
	case !genieapi.Active(j.Status) && j.Dir != "":
		e.ArchiveStatus = "FAILED"
	case !genieapi.Active(j.Status):
		e.ArchiveStatus = "NO_FILES"
	}
	return e
}

func (s *Service) apiJobResource(kind string) httpapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		j, err := s.getJob(r.Context(), r.PathValue("id"))
		if err != nil {
			return apiError(err)
		}
		id := j.ClusterID
		if kind == kindCommand {
			id = j.CommandID
		}
		if id == "" {
			return httpapi.NotFound("job %s has no %s: %s", j.ID, fmtKind(kind), j.StatusMsg)
		}
		d, err := s.getResource(r.Context(), kind, id)
		if err != nil {
			return apiError(err)
		}
		return httpapi.WriteJSON(w, http.StatusOK, withLinks(kind, d))
	}
}

func (s *Service) apiJobApplications(w http.ResponseWriter, r *http.Request) error {
	j, err := s.getJob(r.Context(), r.PathValue("id"))
	if err != nil {
		return apiError(err)
	}
	ids := j.Request.Applications
	if len(ids) == 0 && j.CommandID != "" {
		if d, err := s.getResource(r.Context(), kindCommand, j.CommandID); err == nil {
			ids = d.(*commandRow).Apps
		}
	}
	out := []any{}
	for _, id := range ids {
		if d, err := s.getResource(r.Context(), kindApplication, id); err == nil {
			out = append(out, withLinks(kindApplication, d))
		}
	}
	return httpapi.WriteJSON(w, http.StatusOK, out)
}

func (s *Service) apiKill(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	httpapi.SetAuditTarget(r, "job:"+id)
	if _, err := s.killJob(r.Context(), id); err != nil {
		return apiError(err)
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}
