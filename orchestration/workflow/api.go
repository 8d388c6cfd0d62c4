package workflow

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/gaffer-sre/gaffer/internal/platform/auth"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
	"github.com/gaffer-sre/gaffer/orchestration/workflow/definition"
)

// ErrInvalid marks a request the caller must change (a param of the
// wrong type).
var ErrInvalid = errors.New("invalid")

const api = "/api/v1/workflows"

// Routes registers the workflow API.
func (s *Service) Routes(r *httpapi.Router) {
	s.templateRoutes(r)
	s.unblockRoute(r)
	r.Handle(httpapi.Route{Method: "POST", Path: api, Scope: ScopeWrite, Action: "workflow.definition.apply",
		Summary:  "Apply a workflow definition (Maestro JSON, or YAML: the same model or Maestro's DSL); a new version unless unchanged",
		Query:    []httpapi.Param{{Name: "file", Description: "the file's name, for errors"}},
		Response: Applied{}, Handler: s.apiApply})
	r.Handle(httpapi.Route{Method: "POST", Path: api + "/signals", Scope: ScopeWrite, Action: "workflow.signal.send",
		Summary: "Send a signal: starts the workflows whose signal triggers it completes", Request: SignalRequest{},
		Response: SignalResult{}, Handler: s.apiSignal})
	r.Handle(httpapi.Route{Method: "GET", Path: api, Scope: ScopeRead, Summary: "List workflows", Response: []Workflow{}, Handler: s.apiList})
	r.Handle(httpapi.Route{Method: "GET", Path: api + "/{id}", Scope: ScopeRead, Summary: "A workflow and its active definition",
		Response: Workflow{}, Handler: s.apiGet})
	r.Handle(httpapi.Route{Method: "GET", Path: api + "/{id}/versions", Scope: ScopeRead, Summary: "A workflow's versions, newest first",
		Response: []Version{}, Handler: s.apiVersions})
	r.Handle(httpapi.Route{Method: "POST", Path: api + "/{id}/versions/{version}/activate", Scope: ScopeWrite,
		Action: "workflow.definition.activate", Summary: "Make a version the one new instances run (roll back or forward)",
		Handler: s.apiActivate})
	r.Handle(httpapi.Route{Method: "POST", Path: api + "/{id}/instances", Scope: ScopeWrite, Action: "workflow.instance.start",
		Summary: "Start an instance", Request: StartRequest{}, Response: Instance{}, Handler: s.apiStart})
	r.Handle(httpapi.Route{Method: "GET", Path: api + "/{id}/instances", Scope: ScopeRead, Summary: "A workflow's instances, newest first",
		Query: []httpapi.Param{{Name: "limit", Description: "at most this many (default 50, at most 500)"}}, Response: []Instance{}, Handler: s.apiInstances})
	r.Handle(httpapi.Route{Method: "GET", Path: api + "/{id}/instances/{no}", Scope: ScopeRead, Summary: "An instance with its steps",
		Response: Instance{}, Handler: s.apiInstance})
	r.Handle(httpapi.Route{Method: "POST", Path: api + "/{id}/instances/{no}/restart", Scope: ScopeWrite, Action: "workflow.instance.restart",
		Summary: "Run a FAILED or STOPPED instance again from its unfinished steps", Response: Instance{}, Handler: s.apiInstanceAction(s.RestartInstance)})
	r.Handle(httpapi.Route{Method: "POST", Path: api + "/{id}/instances/{no}/pause", Scope: ScopeWrite, Action: "workflow.instance.pause",
		Summary: "Pause an instance: running steps finish, no other starts", Response: Instance{}, Handler: s.apiInstanceAction(s.PauseInstance)})
	r.Handle(httpapi.Route{Method: "POST", Path: api + "/{id}/instances/{no}/resume", Scope: ScopeWrite, Action: "workflow.instance.resume",
		Summary: "Resume a paused instance", Response: Instance{}, Handler: s.apiInstanceAction(s.ResumeInstance)})
	r.Handle(httpapi.Route{Method: "POST", Path: api + "/{id}/backfills", Scope: ScopeWrite, Action: "workflow.backfill.start",
		Summary: "Start an instance for every time the workflow's time trigger fires in [from, to)", Request: BackfillRequest{},
		Response: Backfill{}, Handler: s.apiBackfill})
	r.Handle(httpapi.Route{Method: "GET", Path: api + "/{id}/backfills/{backfill}", Scope: ScopeRead,
		Summary: "A backfill's progress", Response: Backfill{}, Handler: s.apiGetBackfill})
	r.Handle(httpapi.Route{Method: "POST", Path: api + "/{id}/instances/{no}/stop", Scope: ScopeWrite, Action: "workflow.instance.stop",
		Summary: "Stop an instance: its running steps end as STOPPED", Response: Instance{}, Handler: s.apiInstanceAction(s.StopInstance)})
}

func apiError(err error) error {
	var de *definition.Error
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNotFound):
		return httpapi.NotFound("%v", err)
	case errors.Is(err, ErrConflict):
		return httpapi.Conflict("%v", err)
	case errors.As(err, &de):
		return httpapi.Errorf(http.StatusUnprocessableEntity, "invalid_workflow", "%v", err)
	case errors.Is(err, ErrInvalid):
		return httpapi.BadRequest("%v", err)
	}
	return err
}

func actor(r *http.Request) string { return auth.FromContext(r.Context()).Actor() }

func (s *Service) apiApply(w http.ResponseWriter, r *http.Request) error {
	return applyFrom(w, r, "definition", s.Apply)
}

// applyFrom answers a request that applies the document in its body
// (?file= names it in errors) with apply: 201 for a new version, 200
// when unchanged.
func applyFrom(w http.ResponseWriter, r *http.Request, what string, apply func(ctx context.Context, file string, src []byte, by string) (Applied, error)) error {
	src, err := io.ReadAll(io.LimitReader(r.Body, definition.MaxSize+1))
	if err != nil {
		return httpapi.BadRequest("read the %s: %v", what, err)
	}
	file := r.URL.Query().Get("file")
	if file == "" {
		file = what
	}
	res, err := apply(r.Context(), file, src, actor(r))
	if err != nil {
		return apiError(err)
	}
	status := http.StatusCreated
	if res.Unchanged {
		status = http.StatusOK
	}
	return httpapi.WriteJSON(w, status, res)
}

func (s *Service) apiList(w http.ResponseWriter, r *http.Request) error {
	list, err := s.Workflows(r.Context())
	if err != nil {
		return err
	}
	return httpapi.WriteJSON(w, http.StatusOK, list)
}

func (s *Service) apiGet(w http.ResponseWriter, r *http.Request) error {
	wf, err := s.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return apiError(err)
	}
	return httpapi.WriteJSON(w, http.StatusOK, wf)
}

func (s *Service) apiVersions(w http.ResponseWriter, r *http.Request) error {
	vs, err := s.Versions(r.Context(), r.PathValue("id"))
	if err != nil {
		return apiError(err)
	}
	return httpapi.WriteJSON(w, http.StatusOK, vs)
}

func (s *Service) apiActivate(w http.ResponseWriter, r *http.Request) error {
	v, err := strconv.Atoi(r.PathValue("version"))
	if err != nil || v < 1 {
		return httpapi.BadRequest("version %q: want a positive number", r.PathValue("version"))
	}
	if err := s.Activate(r.Context(), r.PathValue("id"), v); err != nil {
		return apiError(err)
	}
	return httpapi.WriteJSON(w, http.StatusOK, map[string]any{"id": r.PathValue("id"), "active_version": v})
}

func (s *Service) apiStart(w http.ResponseWriter, r *http.Request) error {
	var req StartRequest
	if r.ContentLength != 0 {
		if err := httpapi.DecodeJSON(r, &req); err != nil {
			return err
		}
	}
	in, err := s.StartInstance(r.Context(), r.PathValue("id"), req, actor(r))
	if err != nil {
		return apiError(err)
	}
	return httpapi.WriteJSON(w, http.StatusCreated, in)
}

func (s *Service) apiInstances(w http.ResponseWriter, r *http.Request) error {
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	list, err := s.Instances(r.Context(), r.PathValue("id"), limit)
	if err != nil {
		return apiError(err)
	}
	return httpapi.WriteJSON(w, http.StatusOK, list)
}

func instanceNo(r *http.Request) (int64, error) {
	no, err := strconv.ParseInt(r.PathValue("no"), 10, 64)
	if err != nil || no < 1 {
		return 0, httpapi.BadRequest("instance %q: want a positive number", r.PathValue("no"))
	}
	return no, nil
}

func (s *Service) apiInstance(w http.ResponseWriter, r *http.Request) error {
	no, err := instanceNo(r)
	if err != nil {
		return err
	}
	in, err := s.Instance(r.Context(), r.PathValue("id"), no)
	if err != nil {
		return apiError(err)
	}
	return httpapi.WriteJSON(w, http.StatusOK, in)
}

func (s *Service) apiBackfill(w http.ResponseWriter, r *http.Request) error {
	var req BackfillRequest
	if err := httpapi.DecodeJSON(r, &req); err != nil {
		return err
	}
	b, err := s.StartBackfill(r.Context(), r.PathValue("id"), req, actor(r))
	if err != nil {
		return apiError(err)
	}
	return httpapi.WriteJSON(w, http.StatusCreated, b)
}

func (s *Service) apiGetBackfill(w http.ResponseWriter, r *http.Request) error {
	b, err := s.Backfill(r.Context(), r.PathValue("id"), r.PathValue("backfill"))
	if err != nil {
		return apiError(err)
	}
	return httpapi.WriteJSON(w, http.StatusOK, b)
}

func (s *Service) apiSignal(w http.ResponseWriter, r *http.Request) error {
	var req SignalRequest
	if err := httpapi.DecodeJSON(r, &req); err != nil {
		return err
	}
	res, err := s.Signal(r.Context(), req, actor(r))
	if err != nil {
		return apiError(err)
	}
	return httpapi.WriteJSON(w, http.StatusCreated, res)
}

// apiInstanceAction serves a POST to an instance (stop, restart): it
// runs act, then answers the instance.
func (s *Service) apiInstanceAction(act func(ctx context.Context, workflow string, no int64, by string) error) httpapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		no, err := instanceNo(r)
		if err != nil {
			return err
		}
		if err := act(r.Context(), r.PathValue("id"), no, actor(r)); err != nil {
			return apiError(err)
		}
		in, err := s.Instance(r.Context(), r.PathValue("id"), no)
		if err != nil {
			return apiError(err)
		}
		return httpapi.WriteJSON(w, http.StatusOK, in)
	}
}
