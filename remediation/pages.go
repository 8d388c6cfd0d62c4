package remediation

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gaffer-sre/gaffer/internal/platform/auth"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
	"github.com/gaffer-sre/gaffer/internal/platform/ui"
)

//go:embed templates/*.html
var templateFS embed.FS

// pages are the runbook UI: runbooks, the editor, versions and diffs, the
// run form, executions with their live step graph and output, approvals,
// and agents.
type pages struct {
	s                                                   *Service
	list, runbook, editor, diff, execs, exec, agentList *ui.Page
}

func newPages(s *Service, shell *ui.Shell) *pages {
	parse := func(files ...string) *ui.Page {
		for i := range files {
			files[i] = "templates/" + files[i]
		}
		return shell.Parse(templateFS, files...)
	}
	p := &pages{s: s, list: parse("runbooks.html"), runbook: parse("runbook.html"), editor: parse("editor.html"),
		diff: parse("diff.html"), execs: parse("executions.html"), exec: parse("execution.html", "graph.html"),
		agentList: parse("agents.html")}
	shell.Nav(ui.NavItem{Title: "Runbooks", Path: "/remediation", Scope: ReadScope, Order: 450})
	shell.Nav(ui.NavItem{Title: "Executions", Path: "/remediation/executions", Scope: ReadScope, Order: 451})
	shell.Nav(ui.NavItem{Title: "Agents", Path: "/remediation/agents", Scope: ReadScope, Order: 452})
	shell.Handle(httpapi.Route{Method: "GET", Path: "/remediation", Scope: ReadScope,
		Summary: "Runbooks page", Handler: p.runbooks})
	shell.Handle(httpapi.Route{Method: "GET", Path: "/remediation/new", Scope: ReadScope,
		Summary: "New runbook editor", Handler: p.edit})
	shell.Handle(httpapi.Route{Method: "GET", Path: "/remediation/runbooks/{name}", Scope: ReadScope,
		Summary: "Runbook page", Handler: p.showRunbook})
	shell.Handle(httpapi.Route{Method: "GET", Path: "/remediation/runbooks/{name}/edit", Scope: ReadScope,
		Summary: "Runbook editor", Handler: p.edit})
	shell.Handle(httpapi.Route{Method: "GET", Path: "/remediation/runbooks/{name}/diff", Scope: ReadScope,
		Summary: "Diff of two versions", Handler: p.showDiff})
	shell.Handle(httpapi.Route{Method: "GET", Path: "/remediation/executions", Scope: ReadScope,
		Summary: "Executions page", Handler: p.executions})
	shell.Handle(httpapi.Route{Method: "GET", Path: "/remediation/executions/{id}", Scope: ReadScope,
		Summary: "Execution page", Handler: p.execution})
	shell.Handle(httpapi.Route{Method: "GET", Path: "/remediation/executions/{id}/live", Scope: ReadScope,
		Summary: "Execution step graph and output (htmx fragment)", Handler: p.live})
	shell.Handle(httpapi.Route{Method: "GET", Path: "/remediation/agents", Scope: ReadScope,
		Summary: "Agents page", Handler: p.agents})
	shell.Handle(httpapi.Route{Method: "POST", Path: "/remediation/validate", Scope: ReadScope, Unaudited: true,
		Action: "remediation.runbooks.validate", Summary: "Check the editor's runbook (htmx fragment)", Handler: p.validate})
	shell.Handle(httpapi.Route{Method: "POST", Path: "/remediation/save", Scope: WriteScope, Action: "remediation.runbooks.apply",
		Summary: "Save the editor's runbook", Handler: p.save})
	shell.Handle(httpapi.Route{Method: "POST", Path: "/remediation/runbooks/{name}/run", Scope: WriteScope,
		Action: "remediation.executions.start", Summary: "Start a run from the run form", Handler: p.run})
	shell.Handle(httpapi.Route{Method: "POST", Path: "/remediation/runbooks/{name}/promote", Scope: WriteScope,
		Action: "remediation.runbooks.promote", Summary: "Promote from the UI", Handler: p.promote})
	shell.Handle(httpapi.Route{Method: "POST", Path: "/remediation/runbooks/{name}/rollback", Scope: WriteScope,
		Action: "remediation.runbooks.rollback", Summary: "Roll back from the UI", Handler: p.promote})
	shell.Handle(httpapi.Route{Method: "POST", Path: "/remediation/executions/{id}/control", Scope: WriteScope,
		Action: "remediation.executions.control", Summary: "Pause, resume or cancel from the UI", Handler: p.control})
	shell.Handle(httpapi.Route{Method: "POST", Path: "/remediation/executions/{id}/steps/{key}/rerun", Scope: WriteScope,
		Action: "remediation.executions.rerun", Summary: "Re-run a step from the UI", Handler: p.rerun})
	shell.Handle(httpapi.Route{Method: "POST", Path: "/remediation/executions/{id}/steps/{key}/resolve", Scope: WriteScope,
		Action: "remediation.executions.resolve", Summary: "Settle an unknown step from the UI", Handler: p.resolve})
	shell.Handle(httpapi.Route{Method: "POST", Path: "/remediation/executions/{id}/steps/{key}/answer", Scope: ReadScope,
		Action: "remediation.approvals.answer", Summary: "Approve or reject from the UI", Handler: p.answer})
	return p
}

func canWrite(r *http.Request) bool { return auth.FromContext(r.Context()).Has(WriteScope) }

func (p *pages) runbooks(w http.ResponseWriter, r *http.Request) error {
	list, err := p.s.runbooks.list(r.Context())
	if err != nil {
		return err
	}
	return p.list.Render(w, r, http.StatusOK, "Runbooks", map[string]any{"Runbooks": list, "CanWrite": canWrite(r)})
}

func (p *pages) showRunbook(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	d, err := p.s.detail(r.Context(), name)
	if err != nil {
		return apiError(err)
	}
	latest, _ := p.s.runbooks.version(r.Context(), name, d.Latest)
	execs, _, _ := listExecs(r.Context(), p.s.db, ExecFilter{Runbook: name, Limit: 20})
	params := "{}"
	if len(d.Params) > 0 {
		params = exampleParams(d.Params)
	}
	return p.runbook.Render(w, r, http.StatusOK, "Runbook "+name, map[string]any{"R": d, "Source": latest.Source,
		"Execs": execs, "CanWrite": canWrite(r), "Envs": Envs, "Params": params, "Error": r.URL.Query().Get("error")})
}

// exampleParams fills a parameters form with each property's default or
// an empty value of its type.
func exampleParams(sch json.RawMessage) string {
	var s struct {
		Properties map[string]struct {
			Type    string `json:"type"`
			Default any    `json:"default"`
		} `json:"properties"`
	}
	json.Unmarshal(sch, &s)
	out := map[string]any{}
	for k, v := range s.Properties {
		switch {
		case v.Default != nil:
			out[k] = v.Default
		case v.Type == "number" || v.Type == "integer":
			out[k] = 0
		case v.Type == "boolean":
			out[k] = false
		case v.Type == "array":
			out[k] = []any{}
		case v.Type == "object":
			out[k] = map[string]any{}
		default:
			out[k] = ""
		}
	}
	b, _ := json.MarshalIndent(out, "", "  ")
	return string(b)
}

const newRunbook = `name: my-runbook
description: What this runbook fixes.
params:
  type: object
  properties:
    host: {type: string}
  required: [host]
steps:
  - name: check
    type: agent
    action: collect-diagnostics
    targets: {tags: {host: "${{ params.host }}"}}
`

func (p *pages) edit(w http.ResponseWriter, r *http.Request) error {
	src, title := newRunbook, "New runbook"
	if name := r.PathValue("name"); name != "" {
		ri, err := p.s.runbooks.get(r.Context(), name)
		if err != nil {
			return apiError(err)
		}
		v, err := p.s.runbooks.version(r.Context(), name, ri.Latest)
		if err != nil {
			return err
		}
		src, title = v.Source, "Edit "+name
	}
	return p.editor.Render(w, r, http.StatusOK, title, map[string]any{"Source": src, "CanWrite": canWrite(r)})
}

func (p *pages) validate(w http.ResponseWriter, r *http.Request) error {
	res := ValidateResult{Valid: true}
	if _, err := Parse([]byte(r.PostFormValue("source"))); err != nil {
		var pe *ParseError
		if !errors.As(err, &pe) {
			return err
		}
		res.Valid, res.Problems = false, pe.Problems
	}
	return p.editor.RenderFragment(w, r, "problems", res)
}

func (p *pages) save(w http.ResponseWriter, r *http.Request) error {
	src := r.PostFormValue("source")
	res, _, err := p.s.runbooks.apply(r.Context(), []byte(src), actor(r), r.PostFormValue("message"))
	if err != nil {
		var pe *ParseError
		if errors.As(err, &pe) {
			return p.editor.Render(w, r, http.StatusUnprocessableEntity, "Edit runbook", map[string]any{"Source": src,
				"CanWrite": true, "Problems": pe.Problems})
		}
		return apiError(err)
	}
	httpapi.SetAuditTarget(r, fmt.Sprintf("runbook:%s@%d", res.Runbook, res.Version))
	http.Redirect(w, r, "/remediation/runbooks/"+url.PathEscape(res.Runbook), http.StatusSeeOther)
	return nil
}

func (p *pages) showDiff(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	from, _ := strconv.Atoi(r.URL.Query().Get("from"))
	to, _ := strconv.Atoi(r.URL.Query().Get("to"))
	d, err := p.s.diff(r.Context(), name, from, to)
	if err != nil {
		return apiError(err)
	}
	return p.diff.Render(w, r, http.StatusOK, fmt.Sprintf("%s: version %d → %d", name, from, to),
		map[string]any{"Name": name, "Lines": d})
}

func (p *pages) run(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	params := strings.TrimSpace(r.PostFormValue("params"))
	if params == "" {
		params = "{}"
	}
	ex, _, err := p.s.engine.start(r.Context(), StartRequest{Runbook: name, Env: r.PostFormValue("env"),
		Params: json.RawMessage(params), Trigger: Trigger{Kind: "manual", By: actor(r)}})
	if err != nil {
		http.Redirect(w, r, "/remediation/runbooks/"+url.PathEscape(name)+"?error="+url.QueryEscape(err.Error()), http.StatusSeeOther)
		return nil
	}
	httpapi.SetAuditTarget(r, "execution:"+ex.ID)
	http.Redirect(w, r, "/remediation/executions/"+ex.ID, http.StatusSeeOther)
	return nil
}

func (p *pages) promote(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	var err error
	if strings.HasSuffix(r.URL.Path, "/rollback") {
		_, err = p.s.runbooks.rollback(r.Context(), name, r.PostFormValue("env"), actor(r))
	} else {
		_, err = p.s.runbooks.promote(r.Context(), name, r.PostFormValue("env"), 0, actor(r))
	}
	httpapi.SetAuditTarget(r, "runbook:"+name)
	target := "/remediation/runbooks/" + url.PathEscape(name)
	if err != nil {
		target += "?error=" + url.QueryEscape(err.Error())
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
	return nil
}

func (p *pages) executions(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	list, next, err := listExecs(r.Context(), p.s.db, ExecFilter{Runbook: q.Get("runbook"), Status: q.Get("status"),
		Before: q.Get("cursor"), Limit: 50})
	if err != nil {
		return err
	}
	return p.execs.Render(w, r, http.StatusOK, "Executions", map[string]any{"Execs": list, "Next": next})
}

// execView is what the execution page and its live fragment render.
type execView struct {
	Ex       *Execution
	Graph    graph
	Top      []StepState
	Approval []approvalView
	Logs     []LogLine
	CanWrite bool
	Done     bool
}

type approvalView struct {
	Key, Question string
	Approvers     []string
	Schema        string
	// OwnRun is set when the viewer started the run and so may not
	// approve it (four eyes).
	OwnRun bool
}

func (p *pages) view(r *http.Request) (*execView, error) {
	ex, err := p.s.Execution(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, apiError(err)
	}
	v := &execView{Ex: ex, CanWrite: canWrite(r), Done: execDone(ex.Status)}
	ownRun := startedBy(auth.FromContext(r.Context()), ex)
	if c, err := p.s.runbooks.compiled(r.Context(), ex.Runbook, ex.Version); err == nil {
		v.Graph = layout(c, ex.Steps)
		ownRun = ownRun && !c.selfApprove()
	}
	for _, st := range ex.Steps {
		if st.Parent == "" {
			v.Top = append(v.Top, st)
		}
		if st.Status == StepWaiting && st.Type == TypeApproval {
			var d struct {
				Question  string          `json:"question"`
				Approvers []string        `json:"approvers"`
				Schema    json.RawMessage `json:"answer_schema"`
			}
			json.Unmarshal(st.Detail, &d)
			v.Approval = append(v.Approval, approvalView{Key: st.Key, Question: d.Question, Approvers: d.Approvers, Schema: string(d.Schema),
				OwnRun: ownRun})
		}
	}
	v.Logs, err = readLogs(r.Context(), p.s.db, ex.ID, 0, 2000)
	return v, err
}

func (p *pages) execution(w http.ResponseWriter, r *http.Request) error {
	v, err := p.view(r)
	if err != nil {
		return err
	}
	return p.exec.Render(w, r, http.StatusOK, "Execution "+v.Ex.ID, v)
}

// live renders the step graph, steps and output; once the execution has
// ended it answers 286, which stops htmx polling.
func (p *pages) live(w http.ResponseWriter, r *http.Request) error {
	v, err := p.view(r)
	if err != nil {
		return err
	}
	if v.Done {
		w.WriteHeader(286)
	}
	return p.exec.RenderFragment(w, r, "live", v)
}

func (p *pages) control(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	httpapi.SetAuditTarget(r, "execution:"+id)
	var err error
	switch op := r.PostFormValue("op"); op {
	case "cancel":
		err = p.s.engine.stopExec(r.Context(), id, actor(r), ExecCancelled, "cancelled by "+actor(r))
	case "pause", "resume":
		err = p.s.engine.setPaused(r.Context(), id, actor(r), op == "pause")
	default:
		return httpapi.BadRequest("op: want cancel, pause or resume")
	}
	if err != nil {
		return apiError(err)
	}
	http.Redirect(w, r, "/remediation/executions/"+id, http.StatusSeeOther)
	return nil
}

func (p *pages) rerun(w http.ResponseWriter, r *http.Request) error {
	id, key := r.PathValue("id"), r.PathValue("key")
	httpapi.SetAuditTarget(r, "execution:"+id+"/"+key)
	if err := p.s.engine.rerun(r.Context(), id, key, actor(r)); err != nil {
		return apiError(err)
	}
	http.Redirect(w, r, "/remediation/executions/"+id, http.StatusSeeOther)
	return nil
}

func (p *pages) resolve(w http.ResponseWriter, r *http.Request) error {
	id, key := r.PathValue("id"), r.PathValue("key")
	httpapi.SetAuditTarget(r, "execution:"+id+"/"+key)
	as := r.PostFormValue("as")
	if as != StepSucceeded && as != StepFailed {
		return httpapi.BadRequest("as: want succeeded or failed")
	}
	if err := p.s.engine.resolve(r.Context(), id, key, actor(r), as, r.PostFormValue("note")); err != nil {
		return apiError(err)
	}
	http.Redirect(w, r, "/remediation/executions/"+id, http.StatusSeeOther)
	return nil
}

func (p *pages) answer(w http.ResponseWriter, r *http.Request) error {
	id, key := r.PathValue("id"), r.PathValue("key")
	httpapi.SetAuditTarget(r, "execution:"+id+"/"+key)
	req := ApproveRequest{Reason: r.PostFormValue("reason")}
	if a := strings.TrimSpace(r.PostFormValue("answer")); a != "" {
		req.Answer = json.RawMessage(a)
	}
	if err := p.s.answer(r.Context(), id, key, auth.FromContext(r.Context()), r.PostFormValue("decision") == "approve", req); err != nil {
		return err
	}
	http.Redirect(w, r, "/remediation/executions/"+id, http.StatusSeeOther)
	return nil
}

func (p *pages) agents(w http.ResponseWriter, r *http.Request) error {
	list, err := p.s.agents.list(r.Context())
	if err != nil {
		return err
	}
	return p.agentList.Render(w, r, http.StatusOK, "Agents", map[string]any{"Agents": list})
}
