package notebook

import (
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/gaffer-sre/gaffer/internal/platform/auth"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
)

const (
	api        = "/api/v1/notebooks"
	runsAPI    = "/api/v1/notebook-runs"
	kernelsAPI = "/api/v1/notebook-kernels"
)

// Routes registers the notebook API.
func (s *Service) Routes(r *httpapi.Router) {
	s.workflowKernelRoutes(r)
	r.Handle(httpapi.Route{Method: "POST", Path: api, Scope: ScopeWrite, Action: "notebook.notebook.upload",
		Summary: "Upload a notebook (.ipynb body): a new version of the notebook ?name=, created if new",
		Query:   []httpapi.Param{{Name: "name", Description: "the notebook's name"}}, Response: Notebook{}, Handler: s.apiUpload})
	r.Handle(httpapi.Route{Method: "GET", Path: api, Scope: ScopeRead, Summary: "List or search notebooks",
		Query:    []httpapi.Param{{Name: "q", Description: "text the name or the latest version holds"}, {Name: "archived", Description: "true to include archived notebooks"}},
		Response: []Notebook{}, Handler: s.apiList})
	r.Handle(httpapi.Route{Method: "GET", Path: api + "/{ref}", Scope: ScopeRead, Summary: "A notebook, by name or id", Response: Notebook{}, Handler: s.apiGet})
	r.Handle(httpapi.Route{Method: "GET", Path: api + "/{ref}/versions", Scope: ScopeRead, Summary: "A notebook's versions, newest first",
		Response: []Version{}, Handler: s.apiVersions})
	r.Handle(httpapi.Route{Method: "GET", Path: api + "/{ref}/versions/{version}/content", Scope: ScopeRead,
		Summary: "A version's .ipynb (version 0: the latest)", Handler: s.apiContent})
	r.Handle(httpapi.Route{Method: "POST", Path: api + "/{ref}/clone", Scope: ScopeWrite, Action: "notebook.notebook.clone",
		Summary: "Copy a notebook's latest version to a new notebook", Request: cloneRequest{}, Response: Notebook{}, Handler: s.apiClone})
	r.Handle(httpapi.Route{Method: "POST", Path: api + "/{ref}/archive", Scope: ScopeWrite, Action: "notebook.notebook.archive",
		Summary: "Archive a notebook: hidden from lists, refused for new runs", Response: Notebook{}, Handler: s.apiArchive(true)})
	r.Handle(httpapi.Route{Method: "POST", Path: api + "/{ref}/unarchive", Scope: ScopeWrite, Action: "notebook.notebook.unarchive",
		Summary: "Bring an archived notebook back", Response: Notebook{}, Handler: s.apiArchive(false)})
	r.Handle(httpapi.Route{Method: "POST", Path: api + "/{ref}/publish", Scope: ScopeWrite, Action: "notebook.notebook.publish",
		Summary: "Publish a version (0: the latest) as the notebook's read-only rendering", Request: publishRequest{}, Response: Notebook{}, Handler: s.apiPublish})
	r.Handle(httpapi.Route{Method: "POST", Path: api + "/{ref}/runs", Scope: ScopeWrite, Action: "notebook.run.start",
		Summary: "Run a notebook on a worker with parameters", Request: RunRequest{}, Response: Run{}, Handler: s.apiStartRun})
	r.Handle(httpapi.Route{Method: "GET", Path: api + "/{ref}/runs", Scope: ScopeRead, Summary: "A notebook's runs, newest first",
		Query: []httpapi.Param{{Name: "limit", Description: "at most this many (default 50, at most 500)"}}, Response: []Run{}, Handler: s.apiRuns})
	r.Handle(httpapi.Route{Method: "GET", Path: runsAPI, Scope: ScopeRead, Summary: "Every notebook's runs, newest first",
		Query: []httpapi.Param{{Name: "limit", Description: "at most this many (default 50, at most 500)"}}, Response: []Run{}, Handler: s.apiRuns})
	r.Handle(httpapi.Route{Method: "GET", Path: runsAPI + "/{id}", Scope: ScopeRead, Summary: "A run with its parameters, progress and scraps",
		Response: Run{}, Handler: s.apiRun})
	r.Handle(httpapi.Route{Method: "GET", Path: runsAPI + "/{id}/output", Scope: ScopeRead,
		Summary: "A run's output .ipynb (while it runs, as of its last finished cell)", Handler: s.apiOutput})
	r.Handle(httpapi.Route{Method: "POST", Path: runsAPI + "/{id}/cancel", Scope: ScopeWrite, Action: "notebook.run.cancel",
		Summary: "Cancel a queued or running run: its kernel is killed", Response: Run{}, Handler: s.apiCancel})
	r.Handle(httpapi.Route{Method: "POST", Path: runsAPI + "/{id}/approve", Scope: ScopeWrite, Action: "notebook.run.approve",
		Summary: "Approve the cell tagged approval a run waits before (not by the person who started it)", Request: Approval{}, Response: Run{}, Handler: s.apiDecide(true)})
	r.Handle(httpapi.Route{Method: "POST", Path: runsAPI + "/{id}/refuse", Scope: ScopeWrite, Action: "notebook.run.refuse",
		Summary: "Refuse the cell a run waits before: the run stops there", Request: Approval{}, Response: Run{}, Handler: s.apiDecide(false)})
	r.Handle(httpapi.Route{Method: "GET", Path: kernelsAPI, Scope: ScopeRead, Summary: "Kernel specs runs may use",
		Response: []KernelSpecInfo{}, Handler: s.apiKernels})
	r.Handle(httpapi.Route{Method: "POST", Path: kernelsAPI, Scope: ScopeWrite, Action: "notebook.kernel.install",
		Summary: "Install a kernel spec (its name and kernel.json)", Request: KernelInstall{}, Response: KernelSpecInfo{}, Handler: s.apiInstallKernel})
}

type cloneRequest struct {
	Name string `json:"name"`
}

type publishRequest struct {
	Version int `json:"version"`
}

func apiError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNotFound):
		return httpapi.NotFound("%v", err)
	case errors.Is(err, ErrConflict):
		return httpapi.Conflict("%v", err)
	case errors.Is(err, ErrInvalid):
		return httpapi.BadRequest("%v", err)
	case errors.Is(err, ErrForbidden):
		return httpapi.Errorf(http.StatusForbidden, "forbidden", "%v", err)
	}
	return err
}

func actor(r *http.Request) string { return auth.FromContext(r.Context()).Actor() }

func (s *Service) apiUpload(w http.ResponseWriter, r *http.Request) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxNotebookSize+1))
	if err != nil {
		return httpapi.BadRequest("read the notebook: %v", err)
	}
	n, err := s.Upload(r.Context(), r.URL.Query().Get("name"), body, actor(r))
	if err != nil {
		return apiError(err)
	}
	return httpapi.WriteJSON(w, http.StatusCreated, n)
}

func (s *Service) apiList(w http.ResponseWriter, r *http.Request) error {
	list, err := s.Search(r.Context(), r.URL.Query().Get("q"), r.URL.Query().Get("archived") == "true")
	if err != nil {
		return err
	}
	return httpapi.WriteJSON(w, http.StatusOK, list)
}

func (s *Service) apiGet(w http.ResponseWriter, r *http.Request) error {
	n, err := s.Notebook(r.Context(), r.PathValue("ref"))
	if err != nil {
		return apiError(err)
	}
	return httpapi.WriteJSON(w, http.StatusOK, n)
}

func (s *Service) apiVersions(w http.ResponseWriter, r *http.Request) error {
	vs, err := s.Versions(r.Context(), r.PathValue("ref"))
	if err != nil {
		return apiError(err)
	}
	return httpapi.WriteJSON(w, http.StatusOK, vs)
}

func (s *Service) apiContent(w http.ResponseWriter, r *http.Request) error {
	v, err := strconv.Atoi(r.PathValue("version"))
	if err != nil || v < 0 {
		return httpapi.BadRequest("version %q: want a version number (0 for the latest)", r.PathValue("version"))
	}
	_, _, content, err := s.Content(r.Context(), r.PathValue("ref"), v)
	if err != nil {
		return apiError(err)
	}
	w.Header().Set("Content-Type", "application/x-ipynb+json")
	_, err = w.Write(content)
	return err
}

func (s *Service) apiClone(w http.ResponseWriter, r *http.Request) error {
	var req cloneRequest
	if err := httpapi.DecodeJSON(r, &req); err != nil {
		return err
	}
	n, err := s.Clone(r.Context(), r.PathValue("ref"), req.Name, actor(r))
	if err != nil {
		return apiError(err)
	}
	return httpapi.WriteJSON(w, http.StatusCreated, n)
}

func (s *Service) apiArchive(archived bool) httpapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		n, err := s.SetArchived(r.Context(), r.PathValue("ref"), archived)
		if err != nil {
			return apiError(err)
		}
		return httpapi.WriteJSON(w, http.StatusOK, n)
	}
}

func (s *Service) apiPublish(w http.ResponseWriter, r *http.Request) error {
	var req publishRequest
	if r.ContentLength != 0 {
		if err := httpapi.DecodeJSON(r, &req); err != nil {
			return err
		}
	}
	n, err := s.Publish(r.Context(), r.PathValue("ref"), req.Version)
	if err != nil {
		return apiError(err)
	}
	return httpapi.WriteJSON(w, http.StatusOK, n)
}

func (s *Service) apiStartRun(w http.ResponseWriter, r *http.Request) error {
	var req RunRequest
	if r.ContentLength != 0 {
		if err := httpapi.DecodeJSON(r, &req); err != nil {
			return err
		}
	}
	run, err := s.StartRun(r.Context(), r.PathValue("ref"), req, actor(r))
	if err != nil {
		return apiError(err)
	}
	return httpapi.WriteJSON(w, http.StatusCreated, run)
}

func (s *Service) apiRuns(w http.ResponseWriter, r *http.Request) error {
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	runs, err := s.Runs(r.Context(), r.PathValue("ref"), limit)
	if err != nil {
		return apiError(err)
	}
	return httpapi.WriteJSON(w, http.StatusOK, runs)
}

func runID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, httpapi.BadRequest("run %q: want a run number", r.PathValue("id"))
	}
	return id, nil
}

func (s *Service) apiRun(w http.ResponseWriter, r *http.Request) error {
	id, err := runID(r)
	if err != nil {
		return err
	}
	run, err := s.Run(r.Context(), id)
	if err != nil {
		return apiError(err)
	}
	return httpapi.WriteJSON(w, http.StatusOK, run)
}

func (s *Service) apiOutput(w http.ResponseWriter, r *http.Request) error {
	id, err := runID(r)
	if err != nil {
		return err
	}
	out, err := s.Output(r.Context(), id)
	if err != nil {
		return apiError(err)
	}
	w.Header().Set("Content-Type", "application/x-ipynb+json")
	_, err = w.Write(out)
	return err
}

func (s *Service) apiCancel(w http.ResponseWriter, r *http.Request) error {
	id, err := runID(r)
	if err != nil {
		return err
	}
	run, err := s.CancelRun(r.Context(), id)
	if err != nil {
		return apiError(err)
	}
	return httpapi.WriteJSON(w, http.StatusOK, run)
}

func (s *Service) apiKernels(w http.ResponseWriter, r *http.Request) error {
	specs, err := s.KernelSpecs()
	if err != nil {
		return err
	}
	return httpapi.WriteJSON(w, http.StatusOK, specs)
}

func (s *Service) apiInstallKernel(w http.ResponseWriter, r *http.Request) error {
	var in KernelInstall
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		return err
	}
	k, err := s.InstallKernelSpec(in)
	if err != nil {
		return apiError(err)
	}
	return httpapi.WriteJSON(w, http.StatusCreated, k)
}

func (s *Service) apiDecide(approve bool) httpapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := runID(r)
		if err != nil {
			return err
		}
		var a Approval
		if r.ContentLength != 0 {
			if err := httpapi.DecodeJSON(r, &a); err != nil {
				return err
			}
		}
		run, err := s.Decide(r.Context(), id, approve, a, actor(r))
		if err != nil {
			return apiError(err)
		}
		return httpapi.WriteJSON(w, http.StatusOK, run)
	}
}
