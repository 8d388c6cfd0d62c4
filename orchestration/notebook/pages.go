package notebook

import (
	"embed"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/gaffer-sre/gaffer/internal/platform/auth"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
	"github.com/gaffer-sre/gaffer/internal/platform/ui"
	"github.com/gaffer-sre/gaffer/orchestration/notebook/nbformat"
	"github.com/gaffer-sre/gaffer/orchestration/notebook/render"
)

//go:embed templates/*.html
var templateFS embed.FS

// pages are the notebook UI: the list with search, a notebook with its
// run form and runs, the published rendering, and a run's live view.
type pages struct {
	s                                 *Service
	list, notebook, published, runPge *ui.Page
}

// Pages registers the system's UI.
func (s *Service) Pages(shell *ui.Shell) {
	parse := func(files ...string) *ui.Page {
		for i := range files {
			files[i] = "templates/" + files[i]
		}
		return shell.Parse(templateFS, files...)
	}
	p := &pages{s: s, list: parse("notebooks.html"), notebook: parse("notebook.html", "cells.html"),
		published: parse("published.html", "cells.html"), runPge: parse("run.html", "cells.html")}
	shell.Nav(ui.NavItem{Title: "Notebooks", Path: "/notebooks", Scope: ScopeRead, Order: 475})
	shell.Handle(httpapi.Route{Method: "GET", Path: "/notebooks", Scope: ScopeRead, Summary: "Notebooks page", Handler: p.notebooks})
	shell.Handle(httpapi.Route{Method: "GET", Path: "/notebooks/{ref}", Scope: ScopeRead, Summary: "Notebook page", Handler: p.showNotebook})
	shell.Handle(httpapi.Route{Method: "GET", Path: "/notebooks/{ref}/published", Scope: ScopeRead,
		Summary: "A notebook's published, read-only rendering", Handler: p.showPublished})
	shell.Handle(httpapi.Route{Method: "POST", Path: "/notebooks/{ref}/run", Scope: ScopeWrite, Action: "notebook.run.start",
		Summary: "Run a notebook with the run form's parameters", Handler: p.run})
	shell.Handle(httpapi.Route{Method: "POST", Path: "/notebooks/{ref}/publish", Scope: ScopeWrite, Action: "notebook.notebook.publish",
		Summary: "Publish a notebook's latest version from the UI", Handler: p.publish})
	shell.Handle(httpapi.Route{Method: "GET", Path: "/notebook-runs/{id}", Scope: ScopeRead, Summary: "Notebook run page", Handler: p.showRun})
	shell.Handle(httpapi.Route{Method: "GET", Path: "/notebook-runs/{id}/live", Scope: ScopeRead,
		Summary: "A run's cells as they finish (htmx fragment)", Handler: p.liveRun})
	shell.Handle(httpapi.Route{Method: "POST", Path: "/notebook-runs/{id}/approve", Scope: ScopeWrite, Action: "notebook.run.approve",
		Summary: "Approve the cell a run waits before, from the UI", Handler: p.decide(true)})
	shell.Handle(httpapi.Route{Method: "POST", Path: "/notebook-runs/{id}/refuse", Scope: ScopeWrite, Action: "notebook.run.refuse",
		Summary: "Refuse the cell a run waits before, from the UI", Handler: p.decide(false)})
	shell.Handle(httpapi.Route{Method: "POST", Path: "/notebook-runs/{id}/cancel", Scope: ScopeWrite, Action: "notebook.run.cancel",
		Summary: "Cancel a run from the UI", Handler: p.cancel})
}

func canWrite(r *http.Request) bool {
	p := auth.FromContext(r.Context())
	return p != nil && p.Has(ScopeWrite)
}

func pageError(err error) error { return apiError(err) }

func (p *pages) notebooks(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query().Get("q")
	list, err := p.s.Search(r.Context(), q, false)
	if err != nil {
		return err
	}
	return p.list.Render(w, r, http.StatusOK, "Notebooks", map[string]any{"Notebooks": list, "Q": q})
}

func (p *pages) showNotebook(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	n, version, content, err := p.s.Content(ctx, r.PathValue("ref"), 0)
	if err != nil {
		return pageError(err)
	}
	nb, err := nbformat.Parse(content)
	if err != nil {
		return err
	}
	versions, err := p.s.Versions(ctx, n.ID)
	if err != nil {
		return err
	}
	runs, err := p.s.Runs(ctx, n.ID, 20)
	if err != nil {
		return err
	}
	return p.notebook.Render(w, r, http.StatusOK, "Notebook "+n.Name, map[string]any{"N": n, "Version": version, "Versions": versions,
		"Runs": runs, "Params": FormParams(nb), "Cells": render.Cells(nb), "Kernel": KernelName(nb, ""), "CanWrite": canWrite(r)})
}

func (p *pages) showPublished(w http.ResponseWriter, r *http.Request) error {
	n, err := p.s.Notebook(r.Context(), r.PathValue("ref"))
	if err != nil {
		return pageError(err)
	}
	if n.Published == 0 {
		return httpapi.NotFound("notebook %s has no published version", n.Name)
	}
	_, _, content, err := p.s.Content(r.Context(), n.ID, n.Published)
	if err != nil {
		return pageError(err)
	}
	nb, err := nbformat.Parse(content)
	if err != nil {
		return err
	}
	return p.published.Render(w, r, http.StatusOK, n.Name+" (published)", map[string]any{"N": n, "Cells": render.Cells(nb)})
}

func (p *pages) run(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return httpapi.BadRequest("read the form: %v", err)
	}
	_, _, content, err := p.s.Content(r.Context(), r.PathValue("ref"), 0)
	if err != nil {
		return pageError(err)
	}
	nb, err := nbformat.Parse(content)
	if err != nil {
		return err
	}
	req := RunRequest{Parameters: map[string]any{}, Kernel: r.PostForm.Get("kernel"), Timeout: r.PostForm.Get("timeout")}
	for _, fp := range FormParams(nb) {
		if v, ok := r.PostForm["p_"+fp.Name]; ok && v[0] != fp.Default {
			req.Parameters[fp.Name] = FormValue(v[0])
		}
	}
	run, err := p.s.StartRun(r.Context(), r.PathValue("ref"), req, actor(r))
	if err != nil {
		return pageError(err)
	}
	http.Redirect(w, r, fmt.Sprintf("/notebook-runs/%d", run.ID), http.StatusSeeOther)
	return nil
}

func (p *pages) publish(w http.ResponseWriter, r *http.Request) error {
	n, err := p.s.Publish(r.Context(), r.PathValue("ref"), 0)
	if err != nil {
		return pageError(err)
	}
	http.Redirect(w, r, "/notebooks/"+n.Name+"/published", http.StatusSeeOther)
	return nil
}

// runView is a run page's data.
type runView struct {
	Run      *Run
	Cells    []render.CellView
	Done     bool
	CanWrite bool
}

func (p *pages) runData(r *http.Request) (*runView, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return nil, httpapi.NotFound("run %q: not found", r.PathValue("id"))
	}
	run, err := p.s.Run(r.Context(), id)
	if err != nil {
		return nil, pageError(err)
	}
	v := &runView{Run: run, Done: run.Status != RunQueued && run.Status != RunRunning && run.Status != RunWaiting, CanWrite: canWrite(r)}
	out, err := p.s.Output(r.Context(), id)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	if nb, perr := nbformat.Parse(out); err == nil && perr == nil {
		v.Cells = render.Cells(nb)
	}
	return v, nil
}

func (p *pages) showRun(w http.ResponseWriter, r *http.Request) error {
	v, err := p.runData(r)
	if err != nil {
		return err
	}
	return p.runPge.Render(w, r, http.StatusOK, fmt.Sprintf("Run %d of %s", v.Run.ID, v.Run.Notebook), v)
}

func (p *pages) liveRun(w http.ResponseWriter, r *http.Request) error {
	v, err := p.runData(r)
	if err != nil {
		return err
	}
	return p.runPge.RenderFragment(w, r, "live", v)
}

func (p *pages) cancel(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return httpapi.NotFound("run %q: not found", r.PathValue("id"))
	}
	if _, err := p.s.CancelRun(r.Context(), id); err != nil {
		return pageError(err)
	}
	http.Redirect(w, r, fmt.Sprintf("/notebook-runs/%d", id), http.StatusSeeOther)
	return nil
}

func (p *pages) decide(approve bool) httpapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil {
			return httpapi.NotFound("run %q: not found", r.PathValue("id"))
		}
		if err := r.ParseForm(); err != nil {
			return httpapi.BadRequest("read the form: %v", err)
		}
		if _, err := p.s.Decide(r.Context(), id, approve, Approval{Comment: r.PostForm.Get("comment")}, actor(r)); err != nil {
			return pageError(err)
		}
		http.Redirect(w, r, fmt.Sprintf("/notebook-runs/%d", id), http.StatusSeeOther)
		return nil
	}
}
