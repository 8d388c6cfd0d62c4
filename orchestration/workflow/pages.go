package workflow

import (
	"embed"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/auth"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
	"github.com/gaffer-sre/gaffer/internal/platform/ui"
)

//go:embed templates/*.html
var templateFS embed.FS

// pages are the workflow UI: the list, a workflow's graph and
// instances, an instance's live view with its Gantt timeline, and a
// backfill's progress.
type pages struct {
	s                                *Service
	list, workflow, instance, backfl *ui.Page
}

// Pages registers the system's UI.
func (s *Service) Pages(shell *ui.Shell) {
	parse := func(files ...string) *ui.Page {
		for i := range files {
			files[i] = "templates/" + files[i]
		}
		return shell.Parse(templateFS, files...)
	}
	p := &pages{s: s, list: parse("workflows.html"), workflow: parse("workflow.html", "dag.html"),
		instance: parse("instance.html", "dag.html"), backfl: parse("backfill.html")}
	shell.Nav(ui.NavItem{Title: "Workflows", Path: "/workflows", Scope: ScopeRead, Order: 470})
	shell.Handle(httpapi.Route{Method: "GET", Path: "/workflows", Scope: ScopeRead, Summary: "Workflows page", Handler: p.workflows})
	shell.Handle(httpapi.Route{Method: "GET", Path: "/workflows/{id}", Scope: ScopeRead, Summary: "Workflow page", Handler: p.showWorkflow})
	shell.Handle(httpapi.Route{Method: "GET", Path: "/workflows/{id}/instances/{no}", Scope: ScopeRead, Summary: "Instance page",
		Handler: p.showInstance})
	shell.Handle(httpapi.Route{Method: "GET", Path: "/workflows/{id}/instances/{no}/live", Scope: ScopeRead,
		Summary: "An instance's graph, steps and timeline (htmx fragment)", Handler: p.liveInstance})
	shell.Handle(httpapi.Route{Method: "GET", Path: "/workflows/{id}/backfills/{backfill}", Scope: ScopeRead, Summary: "Backfill page",
		Handler: p.showBackfill})
	shell.Handle(httpapi.Route{Method: "POST", Path: "/workflows/{id}/start", Scope: ScopeWrite, Action: "workflow.instance.start",
		Summary: "Start an instance from the UI", Handler: p.start})
}

func (p *pages) workflows(w http.ResponseWriter, r *http.Request) error {
	list, err := p.s.Workflows(r.Context())
	if err != nil {
		return err
	}
	return p.list.Render(w, r, http.StatusOK, "Workflows", map[string]any{"Workflows": list})
}

func (p *pages) showWorkflow(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	wf, err := p.s.Get(ctx, r.PathValue("id"))
	if err != nil {
		return pageError(err)
	}
	versions, err := p.s.Versions(ctx, wf.ID)
	if err != nil {
		return err
	}
	instances, err := p.s.Instances(ctx, wf.ID, 20)
	if err != nil {
		return err
	}
	return p.workflow.Render(w, r, http.StatusOK, "Workflow "+wf.ID, map[string]any{"W": wf, "Versions": versions,
		"Instances": instances, "DAG": drawDAG(wf.Definition.Workflow.Steps, nil), "CanWrite": canWrite(r)})
}

// instanceView is an instance page's data.
type instanceView struct {
	In    *Instance
	DAG   dag
	Gantt gantt
	Done  bool
}

func (p *pages) instanceData(r *http.Request) (*instanceView, error) {
	no, err := strconv.ParseInt(r.PathValue("no"), 10, 64)
	if err != nil {
		return nil, httpapi.NotFound("no instance %q", r.PathValue("no"))
	}
	in, err := p.s.Instance(r.Context(), r.PathValue("id"), no)
	if err != nil {
		return nil, pageError(err)
	}
	c, err := p.s.version(r.Context(), p.s.db, in.WorkflowID, in.Version)
	if err != nil {
		return nil, err
	}
	status := map[string]string{}
	for _, st := range in.Steps {
		status[st.ID] = st.Status
	}
	v := &instanceView{In: in, DAG: drawDAG(c.def.Workflow.Steps, func(id string) string { return status[id] }),
		Gantt: drawGantt(in, p.s.now()), Done: instanceTerminal(in.Status)}
	return v, nil
}

func (p *pages) showInstance(w http.ResponseWriter, r *http.Request) error {
	v, err := p.instanceData(r)
	if err != nil {
		return err
	}
	return p.instance.Render(w, r, http.StatusOK, "Instance "+r.PathValue("id")+" #"+r.PathValue("no"), v)
}

func (p *pages) liveInstance(w http.ResponseWriter, r *http.Request) error {
	v, err := p.instanceData(r)
	if err != nil {
		return err
	}
	return p.instance.RenderFragment(w, r, "live", v)
}

func (p *pages) showBackfill(w http.ResponseWriter, r *http.Request) error {
	b, err := p.s.Backfill(r.Context(), r.PathValue("id"), r.PathValue("backfill"))
	if err != nil {
		return pageError(err)
	}
	pct := 0
	if b.Total > 0 {
		pct = 100 * b.Done / b.Total
	}
	return p.backfl.Render(w, r, http.StatusOK, "Backfill "+b.ID, map[string]any{"B": b, "Percent": pct})
}

func (p *pages) start(w http.ResponseWriter, r *http.Request) error {
	in, err := p.s.StartInstance(r.Context(), r.PathValue("id"), StartRequest{}, actor(r))
	if err != nil {
		return pageError(err)
	}
	http.Redirect(w, r, "/workflows/"+in.WorkflowID+"/instances/"+strconv.FormatInt(in.InstanceID, 10), http.StatusSeeOther)
	return nil
}

func canWrite(r *http.Request) bool {
	p := auth.FromContext(r.Context())
	return p != nil && p.Has(ScopeWrite)
}

func pageError(err error) error {
	if errors.Is(err, ErrNotFound) {
		return httpapi.NotFound("%v", err)
	}
	return apiError(err)
}

// gantt is an instance's timeline: a bar per step that started.
type gantt struct {
	Width, Height int
	Bars          []ganttBar
	Span          string
}

type ganttBar struct {
	Label, Class, Title string
	Y, X, W             int
}

// drawGantt places each started step's run on the instance's time axis.
func drawGantt(in *Instance, now time.Time) gantt {
	const width, labelW, rowH = 640, 200, 18
	start, end := in.CreatedAt, in.CreatedAt
	for _, s := range in.Steps {
		if s.FinishedAt != nil && s.FinishedAt.After(end) {
			end = *s.FinishedAt
		}
		if s.FinishedAt == nil && s.StartedAt != nil && now.After(end) {
			end = now
		}
	}
	span := end.Sub(start)
	if span <= 0 {
		span = time.Millisecond
	}
	g := gantt{Width: labelW + width + 10, Span: span.Round(time.Millisecond).String()}
	x := func(t time.Time) int { return labelW + int(float64(width)*float64(t.Sub(start))/float64(span)) }
	for _, s := range in.Steps {
		if s.StartedAt == nil {
			continue
		}
		to := now
		if s.FinishedAt != nil {
			to = *s.FinishedAt
		}
		b := ganttBar{Label: truncateLabel(s.ID, 28), Class: statusClass(s.Status), Y: len(g.Bars) * rowH, X: x(*s.StartedAt)}
		b.W = max(2, x(to)-b.X)
		b.Title = s.ID + ": " + s.Status + ", " + to.Sub(*s.StartedAt).Round(time.Millisecond).String()
		g.Bars = append(g.Bars, b)
		if len(g.Bars) == 200 { // a long foreach: the first 200
			break
		}
	}
	g.Height = len(g.Bars)*rowH + 4
	return g
}

// StatusClass is the page's badge class of the instance's status.
func (in Instance) StatusClass() string { return statusClass(in.Status) }

// StatusClass is the page's badge class of the step's status.
func (s StepInstance) StatusClass() string { return statusClass(s.Status) }
