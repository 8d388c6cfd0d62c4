package genie

import (
	"embed"
	"errors"
	"net/http"
	"os"
	"strings"

	"github.com/gaffer-sre/gaffer/internal/platform/auth"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
	"github.com/gaffer-sre/gaffer/internal/platform/ui"
	"github.com/gaffer-sre/gaffer/orchestration/genie/genieapi"
)

//go:embed templates/*.html
var templateFS embed.FS

// pages are the Genie UI: the job list with filters, a job's page with
// its live output, and the clusters and commands with their tags.
type pages struct {
	s                             *Service
	jobs, job, clusters, commands *ui.Page
}

// liveTail is how much of a job's stdout and stderr its page shows.
const liveTail = 64 << 10

// Pages registers the system's UI.
func (s *Service) Pages(shell *ui.Shell) {
	parse := func(f string) *ui.Page { return shell.Parse(templateFS, "templates/"+f) }
	p := &pages{s: s, jobs: parse("jobs.html"), job: parse("job.html"), clusters: parse("clusters.html"), commands: parse("commands.html")}
	shell.Nav(ui.NavItem{Title: "Genie", Path: "/genie/jobs", Scope: ScopeRead, Order: 480})
	shell.Handle(httpapi.Route{Method: "GET", Path: "/genie/jobs", Scope: ScopeRead, Summary: "Genie jobs page", Handler: p.jobList})
	shell.Handle(httpapi.Route{Method: "GET", Path: "/genie/jobs/{id}", Scope: ScopeRead, Summary: "Genie job page", Handler: p.jobPage})
	shell.Handle(httpapi.Route{Method: "GET", Path: "/genie/jobs/{id}/live", Scope: ScopeRead,
		Summary: "A job's status and the end of its output (htmx fragment)", Handler: p.jobLive})
	shell.Handle(httpapi.Route{Method: "POST", Path: "/genie/jobs/{id}/kill", Scope: ScopeWrite, Action: "genie.job.kill",
		Summary: "Kill a job from the UI", Handler: p.kill})
	shell.Handle(httpapi.Route{Method: "GET", Path: "/genie/clusters", Scope: ScopeRead, Summary: "Genie clusters page", Handler: p.clusterList})
	shell.Handle(httpapi.Route{Method: "GET", Path: "/genie/commands", Scope: ScopeRead, Summary: "Genie commands page", Handler: p.commandList})
}

// jobFilters are the job list's filters, from its query.
type jobFilters struct {
	Status, User, Cluster, Command, Tag string
}

func (p *pages) jobList(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := jobFilters{Status: strings.ToUpper(q.Get("status")), User: q.Get("user"), Cluster: q.Get("cluster"), Command: q.Get("command"), Tag: q.Get("tag")}
	jf := jobFilter{User: f.User, Cluster: f.Cluster, Command: f.Command, Limit: 200}
	if f.Status != "" {
		jf.Statuses = []string{f.Status}
	}
	if f.Tag != "" {
		jf.Tags = []string{f.Tag}
	}
	found, _, err := p.s.findJobs(r.Context(), jf)
	if err != nil {
		return err
	}
	now := p.s.now()
	views := make([]Job, len(found))
	for i, j := range found {
		views[i] = j.view(now)
	}
	statuses := append(append([]string{}, genieapi.ActiveStatuses...), genieapi.StatusSucceeded, genieapi.StatusFailed,
		genieapi.StatusKilled, genieapi.StatusInvalid)
	return p.jobs.Render(w, r, http.StatusOK, "Genie jobs", map[string]any{"Jobs": views, "F": f, "Statuses": statuses})
}

// jobView is a job page's data.
type jobView struct {
	Job            Job
	Exec           JobExecution
	Request        JobRequest
	Active         bool
	CanWrite       bool
	Stdout, Stderr string
	// Cut says the output shown is the end of a longer file.
	StdoutCut, StderrCut bool
}

func (p *pages) jobData(r *http.Request) (*jobView, error) {
	j, err := p.s.getJob(r.Context(), r.PathValue("id"))
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, httpapi.NotFound("%v", err)
		}
		return nil, err
	}
	v := &jobView{Job: j.view(p.s.now()), Exec: j.execution(), Request: j.Request, Active: genieapi.Active(j.Status), CanWrite: canWrite(r)}
	if j.Dir != "" {
		v.Stdout, v.StdoutCut = p.tail(j.ID, "stdout")
		v.Stderr, v.StderrCut = p.tail(j.ID, "stderr")
	}
	return v, nil
}

// tail reads the end of one of a job's files.
func (p *pages) tail(id, name string) (string, bool) {
	root, err := p.s.openOutput(id)
	if err != nil {
		return "", false
	}
	defer root.Close()
	fi, err := root.Stat(name)
	if err != nil {
		return "", false
	}
	from := max(fi.Size()-liveTail, 0)
	b, _, _, err := p.s.readTail(id, name, from, liveTail)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", false
	}
	return string(b), from > 0
}

func (p *pages) jobPage(w http.ResponseWriter, r *http.Request) error {
	v, err := p.jobData(r)
	if err != nil {
		return err
	}
	return p.job.Render(w, r, http.StatusOK, "Genie job "+v.Job.Name, v)
}

func (p *pages) jobLive(w http.ResponseWriter, r *http.Request) error {
	v, err := p.jobData(r)
	if err != nil {
		return err
	}
	return p.job.RenderFragment(w, r, "live", v)
}

func (p *pages) kill(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	httpapi.SetAuditTarget(r, "job:"+id)
	if _, err := p.s.killJob(r.Context(), id); err != nil {
		return apiError(err)
	}
	http.Redirect(w, r, "/genie/jobs/"+id, http.StatusSeeOther)
	return nil
}

func (p *pages) clusterList(w http.ResponseWriter, r *http.Request) error {
	docs, err := p.s.listResources(r.Context(), kindCluster, listFilter{})
	if err != nil {
		return err
	}
	type clusterView struct {
		*Cluster
		UserTags []string
	}
	views := make([]clusterView, len(docs))
	for i, d := range docs {
		cl := d.(*Cluster)
		views[i] = clusterView{cl, userTags(cl.Tags)}
	}
	return p.clusters.Render(w, r, http.StatusOK, "Genie clusters", map[string]any{"Clusters": views})
}

// commandView is a command with the clusters its criteria select now.
type commandView struct {
	C        *commandRow
	UserTags []string
	Clusters []string
}

func (p *pages) commandList(w http.ResponseWriter, r *http.Request) error {
	docs, err := p.s.listResources(r.Context(), kindCommand, listFilter{})
	if err != nil {
		return err
	}
	idx, err := p.s.index(r.Context())
	if err != nil {
		return err
	}
	views := make([]commandView, len(docs))
	for i, d := range docs {
		views[i].C = d.(*commandRow)
		views[i].UserTags = userTags(views[i].C.Tags)
		if cmd := idx.Command(views[i].C.ID); cmd != nil {
			for _, cl := range idx.ClustersFor(cmd) {
				views[i].Clusters = append(views[i].Clusters, cl.Name)
			}
		}
	}
	return p.commands.Render(w, r, http.StatusOK, "Genie commands", map[string]any{"Commands": views})
}

func canWrite(r *http.Request) bool {
	pr := auth.FromContext(r.Context())
	return pr != nil && pr.Has(ScopeWrite)
}

// userTags are a resource's tags without the genie.id and genie.name
// tags every resource has.
func userTags(tags []string) []string {
	var out []string
	for _, t := range tags {
		if !strings.HasPrefix(t, "genie.id:") && !strings.HasPrefix(t, "genie.name:") {
			out = append(out, t)
		}
	}
	return out
}
