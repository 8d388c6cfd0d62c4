package failover

import (
	"net/http"

	"github.com/gaffer-sre/gaffer/demand/failover/plan"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
)

// DiffResult answers GET /plans/{id}/diff.
type DiffResult struct {
	Plan  string          `json:"plan"`
	Lines []plan.DiffLine `json:"lines"`
}

func (s *Service) planRoutes(r *httpapi.Router) {
	r.Handle(httpapi.Route{Method: "POST", Path: api + "/plans", Scope: WriteScope, Action: "failover.plan.create",
		Summary: "Plan an evacuation (evacuate) or a partial shift (from, fraction); an infeasible plan names each service's shortfall",
		Request: PlanRequest{}, Response: PlanRecord{},
		Handler: s.apiCreatePlan})
	r.Handle(httpapi.Route{Method: "GET", Path: api + "/plans", Scope: ReadScope, Summary: "Plans, newest first",
		Query: []httpapi.Param{{Name: "fleet"}, {Name: "limit"}, {Name: "cursor"}}, Response: httpapi.Page[PlanSummary]{},
		Handler: s.apiListPlans})
	r.Handle(httpapi.Route{Method: "GET", Path: api + "/plans/{id}", Scope: ReadScope, Summary: "A plan: distributions, cluster targets, steps, rollback",
		Response: PlanRecord{}, Handler: s.apiGetPlan})
	r.Handle(httpapi.Route{Method: "GET", Path: api + "/plans/{id}/diff", Scope: ReadScope,
		Summary: "A plan's preview as a diff of steering, region load and cluster sizes; ?format=text for text",
		Query:   []httpapi.Param{{Name: "format", Description: "json (default) or text"}}, Response: DiffResult{},
		Handler: s.apiPlanDiff})
	r.Handle(httpapi.Route{Method: "POST", Path: api + "/plans/{id}/execute", Scope: WriteScope, Action: "failover.plan.execute",
		Summary: "Execute a plan (409 if it is infeasible: nothing runs)", Response: Execution{},
		Handler: s.apiExecutePlan})
	r.Handle(httpapi.Route{Method: "GET", Path: api + "/recommendations", Scope: ReadScope, Summary: "Failover recommendations, newest first",
		Query: []httpapi.Param{{Name: "fleet"}, {Name: "limit"}}, Response: httpapi.Page[Recommendation]{},
		Handler: s.apiListRecommendations})
}

// apiCreatePlan plans an evacuation or a shift (POST /plans).
func (s *Service) apiCreatePlan(w http.ResponseWriter, r *http.Request) error {
	var req PlanRequest
	if err := httpapi.DecodeJSON(r, &req); err != nil {
		return err
	}
	if req.Fleet == "" {
		return httpapi.BadRequest("fleet: required")
	}
	httpapi.SetAuditTarget(r, "fleet:"+req.Fleet)
	rec, err := s.CreatePlan(r.Context(), req, actor(r))
	if err != nil {
		return apiError(err)
	}
	httpapi.SetAuditDetail(r, "plan "+rec.ID+" "+rec.Status)
	return httpapi.WriteJSON(w, http.StatusCreated, rec)
}

// apiListPlans lists plans, newest first (GET /plans).
func (s *Service) apiListPlans(w http.ResponseWriter, r *http.Request) error {
	limit, before, err := pageParams(r)
	if err != nil {
		return err
	}
	ps, next, err := s.Plans(r.Context(), r.URL.Query().Get("fleet"), before, limit)
	if err != nil {
		return err
	}
	return httpapi.WriteJSON(w, http.StatusOK, httpapi.Page[PlanSummary]{Items: ps, NextCursor: cursor(next)})
}

// apiGetPlan answers one plan (GET /plans/{id}).
func (s *Service) apiGetPlan(w http.ResponseWriter, r *http.Request) error {
	rec, err := s.Plan(r.Context(), r.PathValue("id"))
	if err != nil {
		return apiError(err)
	}
	return httpapi.WriteJSON(w, http.StatusOK, rec)
}

// apiPlanDiff answers a plan's preview as a diff, in JSON or text (GET /plans/{id}/diff).
func (s *Service) apiPlanDiff(w http.ResponseWriter, r *http.Request) error {
	rec, err := s.Plan(r.Context(), r.PathValue("id"))
	if err != nil {
		return apiError(err)
	}
	if r.URL.Query().Get("format") == "text" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, err := w.Write([]byte(rec.DiffText()))
		return err
	}
	return httpapi.WriteJSON(w, http.StatusOK, DiffResult{Plan: rec.ID, Lines: rec.Diff()})
}

// apiExecutePlan starts executing a plan (POST /plans/{id}/execute).
func (s *Service) apiExecutePlan(w http.ResponseWriter, r *http.Request) error {
	httpapi.SetAuditTarget(r, "plan:"+r.PathValue("id"))
	ex, err := s.Execute(r.Context(), r.PathValue("id"), ExecuteOptions{By: actor(r)})
	if err != nil {
		return apiError(err)
	}
	httpapi.SetAuditDetail(r, "execution "+ex.ID)
	return httpapi.WriteJSON(w, http.StatusCreated, ex)
}

// apiListRecommendations lists failover recommendations, newest first (GET /recommendations).
func (s *Service) apiListRecommendations(w http.ResponseWriter, r *http.Request) error {
	limit, err := httpapi.Limit(r, 50, 500)
	if err != nil {
		return err
	}
	rs, err := s.Recommendations(r.Context(), r.URL.Query().Get("fleet"), limit)
	if err != nil {
		return err
	}
	return httpapi.WriteJSON(w, http.StatusOK, httpapi.Page[Recommendation]{Items: rs})
}

func (s *Service) executionRoutes(r *httpapi.Router) {
	r.Handle(httpapi.Route{Method: "GET", Path: api + "/executions", Scope: ReadScope, Summary: "Executions, newest first",
		Query: []httpapi.Param{{Name: "status"}, {Name: "limit"}, {Name: "cursor"}}, Response: httpapi.Page[Execution]{},
		Handler: s.apiListExecutions})
	r.Handle(httpapi.Route{Method: "GET", Path: api + "/executions/{id}", Scope: ReadScope, Summary: "An execution with its steps",
		Response: Execution{}, Handler: s.apiGetExecution})
	for _, action := range []string{ActionPause, ActionResume, ActionAbort, ActionRollback} {
		r.Handle(httpapi.Route{Method: "POST", Path: api + "/executions/{id}/" + action, Scope: WriteScope,
			Action: "failover.execution." + action, Summary: ActionSummaries[action], Response: Execution{},
			Handler: s.apiControl(action)})
	}
	r.Handle(httpapi.Route{Method: "POST", Path: api + "/exercises", Scope: WriteScope, Action: "failover.exercise.start",
		Summary: "Run an evacuation exercise against a generated fleet on the simulator", Request: ExerciseRequest{}, Response: Exercise{},
		Handler: s.apiStartExercise})
	r.Handle(httpapi.Route{Method: "GET", Path: api + "/exercises", Scope: ReadScope, Summary: "Exercises, newest first",
		Query: []httpapi.Param{{Name: "limit"}}, Response: httpapi.Page[Exercise]{},
		Handler: s.apiListExercises})
	r.Handle(httpapi.Route{Method: "GET", Path: api + "/exercises/{id}", Scope: ReadScope,
		Summary: "An exercise; once finished, its report: timeline, evacuated, simulated and control-plane seconds", Response: Exercise{},
		Handler: s.apiGetExercise})
}

// apiListExecutions lists executions, newest first (GET /executions).
func (s *Service) apiListExecutions(w http.ResponseWriter, r *http.Request) error {
	limit, before, err := pageParams(r)
	if err != nil {
		return err
	}
	xs, next, err := s.Executions(r.Context(), r.URL.Query().Get("status"), before, limit)
	if err != nil {
		return err
	}
	items := make([]Execution, len(xs))
	for i, x := range xs {
		items[i] = *x
	}
	return httpapi.WriteJSON(w, http.StatusOK, httpapi.Page[Execution]{Items: items, NextCursor: cursor(next)})
}

// apiGetExecution answers one execution with its steps (GET /executions/{id}).
func (s *Service) apiGetExecution(w http.ResponseWriter, r *http.Request) error {
	ex, err := s.Execution(r.Context(), r.PathValue("id"))
	if err != nil {
		return apiError(err)
	}
	return httpapi.WriteJSON(w, http.StatusOK, ex)
}

// apiControl serves POST /executions/{id}/ACTION: pause, resume, abort or
// roll back an execution.
func (s *Service) apiControl(action string) httpapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		httpapi.SetAuditTarget(r, "execution:"+r.PathValue("id"))
		ex, err := s.Control(r.Context(), r.PathValue("id"), action, actor(r))
		if err != nil {
			return apiError(err)
		}
		return httpapi.WriteJSON(w, http.StatusOK, ex)
	}
}

// apiStartExercise runs an evacuation exercise on the simulator (POST /exercises).
func (s *Service) apiStartExercise(w http.ResponseWriter, r *http.Request) error {
	var req ExerciseRequest
	if err := httpapi.DecodeJSON(r, &req); err != nil {
		return err
	}
	x, err := s.StartExercise(r.Context(), req, actor(r))
	if err != nil {
		return apiError(err)
	}
	httpapi.SetAuditTarget(r, "exercise:"+x.ID)
	return httpapi.WriteJSON(w, http.StatusCreated, x)
}

// apiListExercises lists exercises, newest first (GET /exercises).
func (s *Service) apiListExercises(w http.ResponseWriter, r *http.Request) error {
	limit, err := httpapi.Limit(r, 20, 200)
	if err != nil {
		return err
	}
	xs, err := s.Exercises(r.Context(), limit)
	if err != nil {
		return err
	}
	items := make([]Exercise, len(xs))
	for i, x := range xs {
		items[i] = *x
	}
	return httpapi.WriteJSON(w, http.StatusOK, httpapi.Page[Exercise]{Items: items})
}

// apiGetExercise answers one exercise and, once finished, its report (GET /exercises/{id}).
func (s *Service) apiGetExercise(w http.ResponseWriter, r *http.Request) error {
	x, err := s.Exercise(r.Context(), r.PathValue("id"))
	if err != nil {
		return apiError(err)
	}
	return httpapi.WriteJSON(w, http.StatusOK, x)
}
