package remediation

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/auth"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
	"github.com/gaffer-sre/gaffer/internal/platform/store"
	"github.com/gaffer-sre/gaffer/remediation/agent"
	"github.com/gaffer-sre/gaffer/remediation/schema"
)

// ApplyRequest is the JSON form of POST /api/v1/remediation/runbooks; the
// body may also be the YAML document itself.
type ApplyRequest struct {
	Source  string `json:"source"`
	Message string `json:"message,omitempty"`
}

// ValidateResult answers POST /api/v1/remediation/runbooks/validate.
type ValidateResult struct {
	Valid    bool      `json:"valid"`
	Problems []Problem `json:"problems"`
}

// RunbookDetail is a runbook with its versions and deployments.
type RunbookDetail struct {
	RunbookInfo
	Versions    []Version       `json:"versions"`
	Deployments []Deployment    `json:"deployments"`
	Params      json.RawMessage `json:"params,omitempty"`
}

// PromoteRequest sets an environment's version.
type PromoteRequest struct {
	Env     string `json:"env"`
	Version int    `json:"version,omitempty"`
}

// RunRequest starts a run.
type RunRequest struct {
	Env     string          `json:"env,omitempty"`
	Version int             `json:"version,omitempty"`
	Params  json.RawMessage `json:"params,omitempty"`
}

// ResolveRequest settles an unknown step.
type ResolveRequest struct {
	// As is succeeded or failed.
	As   string `json:"as"`
	Note string `json:"note,omitempty"`
}

// ApproveRequest answers an approval step.
type ApproveRequest struct {
	Answer json.RawMessage `json:"answer,omitempty"`
	// Reason explains a rejection.
	Reason string `json:"reason,omitempty"`
}

// AgentToken is a new agent's token, shown once.
type AgentToken struct {
	Name   string `json:"name"`
	Secret string `json:"secret"`
}

// BundleInfo describes a stored action bundle.
type BundleInfo struct {
	Name      string    `json:"name"`
	Version   string    `json:"version"`
	SHA256    string    `json:"sha256"`
	Size      int       `json:"size"`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by"`
}

// Routes implements platform.RouteProvider.
func (s *Service) Routes(r *httpapi.Router) {
	const p = "/api/v1/remediation"
	r.Handle(httpapi.Route{Method: "GET", Path: p + "/schema", Public: true, Summary: "The JSON Schema of runbook documents",
		Handler: s.apiSchema})
	r.Handle(httpapi.Route{Method: "GET", Path: p + "/runbooks", Scope: ReadScope, Summary: "Runbooks",
		Response: httpapi.Page[RunbookInfo]{}, Handler: s.apiListRunbooks})
	r.Handle(httpapi.Route{Method: "POST", Path: p + "/runbooks", Scope: WriteScope, Action: "remediation.runbooks.apply",
		Summary: "Create or update a runbook (YAML body, or JSON {source}); each change is a new version, deployed to dev",
		Request: ApplyRequest{}, Response: ApplyResult{}, Handler: s.apiApply})
	r.Handle(httpapi.Route{Method: "POST", Path: p + "/runbooks/validate", Scope: ReadScope, Unaudited: true, Action: "remediation.runbooks.validate",
		Summary: "Check a runbook document without saving it", Request: ApplyRequest{}, Response: ValidateResult{}, Handler: s.apiValidate})
	r.Handle(httpapi.Route{Method: "GET", Path: p + "/runbooks/{name}", Scope: ReadScope, Summary: "A runbook, its versions and deployments",
		Response: RunbookDetail{}, Handler: s.apiGetRunbook})
	r.Handle(httpapi.Route{Method: "GET", Path: p + "/runbooks/{name}/versions/{version}", Scope: ReadScope,
		Summary: "One version of a runbook, with its source", Response: Version{}, Handler: s.apiVersion})
	r.Handle(httpapi.Route{Method: "GET", Path: p + "/runbooks/{name}/diff", Scope: ReadScope, Summary: "Line diff between two versions",
		Query: []httpapi.Param{{Name: "from", Required: true}, {Name: "to", Required: true}}, Response: []DiffLine{}, Handler: s.apiDiff})
	r.Handle(httpapi.Route{Method: "POST", Path: p + "/runbooks/{name}/promote", Scope: WriteScope, Action: "remediation.runbooks.promote",
		Summary: "Set the version an environment runs (default: the previous environment's)", Request: PromoteRequest{},
		Response: Deployment{}, Handler: s.apiPromote})
	r.Handle(httpapi.Route{Method: "POST", Path: p + "/runbooks/{name}/rollback", Scope: WriteScope, Action: "remediation.runbooks.rollback",
		Summary: "Set an environment back to the version it ran before", Request: PromoteRequest{}, Response: Deployment{},
		Handler: s.apiRollback})
	r.Handle(httpapi.Route{Method: "POST", Path: p + "/runbooks/{name}/run", Scope: WriteScope, Action: "remediation.executions.start",
		Summary: "Start a run", Request: RunRequest{}, Response: Execution{}, Handler: s.apiRun})
	r.Handle(httpapi.Route{Method: "GET", Path: p + "/executions", Scope: ReadScope, Summary: "Executions, newest first",
		Query:    []httpapi.Param{{Name: "runbook"}, {Name: "status"}, {Name: "limit"}, {Name: "cursor"}},
		Response: httpapi.Page[Execution]{}, Handler: s.apiListExecutions})
	r.Handle(httpapi.Route{Method: "GET", Path: p + "/executions/{id}", Scope: ReadScope, Summary: "An execution with its steps and history",
		Response: Execution{}, Handler: s.apiGetExecution})
	r.Handle(httpapi.Route{Method: "GET", Path: p + "/executions/{id}/logs", Scope: ReadScope,
		Summary: "Step output after ?after=ID; with Accept: text/event-stream, followed live until the execution ends",
		Query:   []httpapi.Param{{Name: "after"}}, Response: []LogLine{}, Streaming: true, Handler: s.apiLogs})
	for _, op := range []string{"cancel", "pause", "resume"} {
		r.Handle(httpapi.Route{Method: "POST", Path: p + "/executions/{id}/" + op, Scope: WriteScope, Action: "remediation.executions." + op,
			Summary: strings.ToUpper(op[:1]) + op[1:] + " an execution", Response: Execution{},
			Handler: s.apiControl(op)})
	}
	r.Handle(httpapi.Route{Method: "POST", Path: p + "/executions/{id}/steps/{key}/rerun", Scope: WriteScope,
		Action: "remediation.executions.rerun", Summary: "Run a failed, cancelled or unknown step again and go on from it",
		Response: Execution{}, Handler: s.apiRerun})
	r.Handle(httpapi.Route{Method: "POST", Path: p + "/executions/{id}/steps/{key}/resolve", Scope: WriteScope,
		Action: "remediation.executions.resolve", Summary: "Settle a step whose outcome is unknown as succeeded or failed",
		Request: ResolveRequest{}, Response: Execution{}, Handler: s.apiResolve})
	r.Handle(httpapi.Route{Method: "POST", Path: p + "/executions/{id}/steps/{key}/approve", Scope: ReadScope,
		Action: "remediation.approvals.approve", Summary: "Answer an approval step (the step's approvers, or remediation:write)",
		Request: ApproveRequest{}, Response: Execution{}, Handler: s.apiApprove})
	r.Handle(httpapi.Route{Method: "POST", Path: p + "/executions/{id}/steps/{key}/reject", Scope: ReadScope,
		Action: "remediation.approvals.reject", Summary: "Reject an approval step", Request: ApproveRequest{}, Response: Execution{},
		Handler: s.apiReject})
	r.Handle(httpapi.Route{Method: "GET", Path: p + "/agents", Scope: ReadScope, Summary: "Registered agents and their state",
		Response: httpapi.Page[AgentInfo]{}, Handler: s.apiAgents})
	r.Handle(httpapi.Route{Method: "POST", Path: p + "/agents/{name}/token", Scope: WriteScope, Action: "remediation.agents.token",
		Summary: "Create a token for agent NAME (identity agent:NAME, scope agent:read); shown once. " +
			"For a name that already exists it needs admin and revokes the old token", Response: AgentToken{},
		Handler: s.apiAgentToken})
	r.Handle(httpapi.Route{Method: "DELETE", Path: p + "/agents/{name}", Scope: WriteScope, Action: "remediation.agents.revoke",
		Summary: "Revoke an agent's tokens and disconnect it", Handler: s.apiRevokeAgent})
	r.Handle(httpapi.Route{Method: "GET", Path: p + "/agent/bootstrap", Scope: agent.AgentScope,
		Summary: "For an agent token: the agent's name and where NATS is", Response: agent.Bootstrap{}, Handler: s.apiBootstrap})
	r.Handle(httpapi.Route{Method: "PUT", Path: p + "/bundles/{name}/{version}", Scope: WriteScope, Action: "remediation.bundles.put",
		Summary: "Store an action bundle (a gzipped tar) for agents that lock its checksum", Response: BundleInfo{}, Handler: s.apiPutBundle})
	r.Handle(httpapi.Route{Method: "GET", Path: p + "/bundles", Scope: ReadScope, Summary: "Stored action bundles",
		Response: httpapi.Page[BundleInfo]{}, Handler: s.apiBundles})
}

// apiError maps the package's errors to API errors.
func apiError(err error) error {
	var pe *ParseError
	var params *ParamsError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNotFound):
		return httpapi.NotFound("%v", err)
	case errors.Is(err, ErrConflict):
		return httpapi.Conflict("%v", err)
	case errors.As(err, &pe):
		return httpapi.Errorf(http.StatusUnprocessableEntity, "invalid_runbook", "%v", err)
	case errors.As(err, &params):
		return httpapi.BadRequest("%v", err)
	case errors.Is(err, ErrInvalid):
		return httpapi.BadRequest("%v", err)
	}
	return err
}

func actor(r *http.Request) string { return auth.FromContext(r.Context()).Actor() }

// apiSchema answers the JSON Schema of runbook documents (GET /schema).
func (s *Service) apiSchema(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/schema+json")
	_, err := w.Write(RunbookSchema)
	return err
}

func (s *Service) apiListRunbooks(w http.ResponseWriter, r *http.Request) error {
	list, err := s.runbooks.list(r.Context())
	if err != nil {
		return err
	}
	if list == nil {
		list = []RunbookInfo{}
	}
	return httpapi.WriteJSON(w, http.StatusOK, httpapi.Page[RunbookInfo]{Items: list})
}

// readSource reads a runbook document: the raw body, or JSON {source}.
func readSource(r *http.Request) (string, string, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, MaxSourceBytes+1))
	if err != nil {
		return "", "", httpapi.BadRequest("read body: %v", err)
	}
	if len(b) > MaxSourceBytes {
		return "", "", httpapi.Errorf(http.StatusRequestEntityTooLarge, "too_large", "runbook documents are at most %d bytes", MaxSourceBytes)
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		var req ApplyRequest
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil || req.Source == "" {
			return "", "", httpapi.BadRequest("source: want JSON {\"source\": YAML text} or a YAML body")
		}
		return req.Source, req.Message, nil
	}
	if r.Header.Get("Content-Type") == "application/x-www-form-urlencoded" {
		return r.PostFormValue("source"), r.PostFormValue("message"), nil
	}
	return string(b), r.URL.Query().Get("message"), nil
}

func (s *Service) apiApply(w http.ResponseWriter, r *http.Request) error {
	src, msg, err := readSource(r)
	if err != nil {
		return err
	}
	res, _, err := s.runbooks.apply(r.Context(), []byte(src), actor(r), msg)
	if err != nil {
		var pe *ParseError
		if errors.As(err, &pe) {
			return writeProblems(w, pe)
		}
		return apiError(err)
	}
	httpapi.SetAuditTarget(r, fmt.Sprintf("runbook:%s@%d", res.Runbook, res.Version))
	status := http.StatusCreated
	if res.Unchanged {
		status = http.StatusOK
	}
	return httpapi.WriteJSON(w, status, res)
}

// writeProblems answers 422 with the error envelope and the problems.
func writeProblems(w http.ResponseWriter, pe *ParseError) error {
	return httpapi.WriteJSON(w, http.StatusUnprocessableEntity, map[string]any{
		"error":    map[string]string{"code": "invalid_runbook", "message": pe.Error()},
		"problems": pe.Problems,
	})
}

func (s *Service) apiValidate(w http.ResponseWriter, r *http.Request) error {
	src, _, err := readSource(r)
	if err != nil {
		return err
	}
	res := ValidateResult{Valid: true, Problems: []Problem{}}
	if _, err := Parse([]byte(src)); err != nil {
		var pe *ParseError
		if !errors.As(err, &pe) {
			return err
		}
		res.Valid, res.Problems = false, pe.Problems
	}
	return httpapi.WriteJSON(w, http.StatusOK, res)
}

func (s *Service) detail(ctx context.Context, name string) (RunbookDetail, error) {
	ri, err := s.runbooks.get(ctx, name)
	if err != nil {
		return RunbookDetail{}, err
	}
	d := RunbookDetail{RunbookInfo: ri}
	if d.Versions, err = s.runbooks.versions(ctx, name); err != nil {
		return d, err
	}
	if d.Deployments, err = s.runbooks.deployments(ctx, name); err != nil {
		return d, err
	}
	if c, err := s.runbooks.compiled(ctx, name, ri.Latest); err == nil {
		d.Params = c.Params
	}
	return d, nil
}

func (s *Service) apiGetRunbook(w http.ResponseWriter, r *http.Request) error {
	d, err := s.detail(r.Context(), r.PathValue("name"))
	if err != nil {
		return apiError(err)
	}
	return httpapi.WriteJSON(w, http.StatusOK, d)
}

func pathInt(r *http.Request, name string) (int, error) {
	v, err := strconv.Atoi(r.PathValue(name))
	if err != nil || v < 1 {
		return 0, httpapi.BadRequest("%s: want a positive integer, got %q", name, r.PathValue(name))
	}
	return v, nil
}

func (s *Service) apiVersion(w http.ResponseWriter, r *http.Request) error {
	v, err := pathInt(r, "version")
	if err != nil {
		return err
	}
	ver, err := s.runbooks.version(r.Context(), r.PathValue("name"), v)
	if err != nil {
		return apiError(err)
	}
	return httpapi.WriteJSON(w, http.StatusOK, ver)
}

func (s *Service) diff(ctx context.Context, name string, from, to int) ([]DiffLine, error) {
	a, err := s.runbooks.version(ctx, name, from)
	if err != nil {
		return nil, err
	}
	b, err := s.runbooks.version(ctx, name, to)
	if err != nil {
		return nil, err
	}
	return diffLines(a.Source, b.Source), nil
}

func (s *Service) apiDiff(w http.ResponseWriter, r *http.Request) error {
	from, err1 := strconv.Atoi(r.URL.Query().Get("from"))
	to, err2 := strconv.Atoi(r.URL.Query().Get("to"))
	if err1 != nil || err2 != nil {
		return httpapi.BadRequest("from, to: want version numbers")
	}
	d, err := s.diff(r.Context(), r.PathValue("name"), from, to)
	if err != nil {
		return apiError(err)
	}
	return httpapi.WriteJSON(w, http.StatusOK, d)
}

func (s *Service) apiPromote(w http.ResponseWriter, r *http.Request) error {
	var req PromoteRequest
	if err := httpapi.DecodeJSON(r, &req); err != nil {
		return err
	}
	name := r.PathValue("name")
	d, err := s.runbooks.promote(r.Context(), name, req.Env, req.Version, actor(r))
	if err != nil {
		return apiError(err)
	}
	httpapi.SetAuditTarget(r, "runbook:"+name)
	httpapi.SetAuditDetail(r, fmt.Sprintf("%s=%d", d.Env, d.Version))
	return httpapi.WriteJSON(w, http.StatusOK, d)
}

func (s *Service) apiRollback(w http.ResponseWriter, r *http.Request) error {
	var req PromoteRequest
	if err := httpapi.DecodeJSON(r, &req); err != nil {
		return err
	}
	name := r.PathValue("name")
	d, err := s.runbooks.rollback(r.Context(), name, req.Env, actor(r))
	if err != nil {
		return apiError(err)
	}
	httpapi.SetAuditTarget(r, "runbook:"+name)
	httpapi.SetAuditDetail(r, fmt.Sprintf("%s=%d", d.Env, d.Version))
	return httpapi.WriteJSON(w, http.StatusOK, d)
}

func (s *Service) apiRun(w http.ResponseWriter, r *http.Request) error {
	var req RunRequest
	if err := httpapi.DecodeJSON(r, &req); err != nil {
		return err
	}
	name := r.PathValue("name")
	ex, _, err := s.engine.start(r.Context(), StartRequest{Runbook: name, Env: req.Env, Version: req.Version, Params: req.Params,
		Trigger: Trigger{Kind: "manual", By: actor(r)}})
	if err != nil {
		return apiError(err)
	}
	httpapi.SetAuditTarget(r, "execution:"+ex.ID)
	httpapi.SetAuditDetail(r, fmt.Sprintf("runbook=%s version=%d", ex.Runbook, ex.Version))
	return httpapi.WriteJSON(w, http.StatusCreated, ex)
}

func (s *Service) apiListExecutions(w http.ResponseWriter, r *http.Request) error {
	limit, err := httpapi.Limit(r, 50, 500)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	list, next, err := listExecs(r.Context(), s.db, ExecFilter{Runbook: q.Get("runbook"), Status: q.Get("status"),
		Before: q.Get("cursor"), Limit: limit})
	if err != nil {
		return err
	}
	if list == nil {
		list = []Execution{}
	}
	return httpapi.WriteJSON(w, http.StatusOK, httpapi.Page[Execution]{Items: list, NextCursor: next})
}

func (s *Service) apiGetExecution(w http.ResponseWriter, r *http.Request) error {
	ex, err := s.Execution(r.Context(), r.PathValue("id"))
	if err != nil {
		return apiError(err)
	}
	return httpapi.WriteJSON(w, http.StatusOK, ex)
}

func (s *Service) apiLogs(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	ex, err := loadExec(r.Context(), s.db, id)
	if err != nil {
		return apiError(err)
	}
	after, _ := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
	if !strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
		lines, err := readLogs(r.Context(), s.db, id, after, 5000)
		if err != nil {
			return err
		}
		return httpapi.WriteJSON(w, http.StatusOK, lines)
	}
	return s.streamLogs(w, r, ex, after)
}

// streamLogs follows an execution's output as server-sent events ("log"
// events, then one "end" event with the execution's final status).
func (s *Service) streamLogs(w http.ResponseWriter, r *http.Request, ex *Execution, after int64) error {
	flusher, ok := w.(http.Flusher)
	if !ok {
		return httpapi.Errorf(http.StatusNotAcceptable, "no_streaming", "streaming is not supported here")
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	flusher.Flush()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		lines, err := readLogs(r.Context(), s.db, ex.ID, after, 1000)
		if err != nil {
			return nil
		}
		for _, l := range lines {
			b, _ := json.Marshal(l)
			fmt.Fprintf(w, "id: %d\nevent: log\ndata: %s\n\n", l.ID, b)
			after = l.ID
		}
		if len(lines) > 0 {
			flusher.Flush()
		}
		cur, err := loadExec(r.Context(), s.db, ex.ID)
		if err == nil && execDone(cur.Status) && len(lines) == 0 {
			b, _ := json.Marshal(map[string]string{"status": cur.Status, "error": cur.Error})
			fmt.Fprintf(w, "event: end\ndata: %s\n\n", b)
			flusher.Flush()
			return nil
		}
		select {
		case <-r.Context().Done():
			return nil
		case <-tick.C:
		}
	}
}

// apiControl serves POST /executions/{id}/OP: cancel, pause or resume an
// execution.
func (s *Service) apiControl(op string) httpapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id := r.PathValue("id")
		httpapi.SetAuditTarget(r, "execution:"+id)
		var err error
		switch op {
		case "cancel":
			if _, err = loadExec(r.Context(), s.db, id); err == nil {
				err = s.engine.stopExec(r.Context(), id, actor(r), ExecCancelled, "cancelled by "+actor(r))
			}
		case "pause":
			err = s.engine.setPaused(r.Context(), id, actor(r), true)
		case "resume":
			err = s.engine.setPaused(r.Context(), id, actor(r), false)
		}
		if err != nil {
			return apiError(err)
		}
		return s.apiGetExecution(w, r)
	}
}

func (s *Service) apiRerun(w http.ResponseWriter, r *http.Request) error {
	id, key := r.PathValue("id"), r.PathValue("key")
	httpapi.SetAuditTarget(r, "execution:"+id+"/"+key)
	if err := s.engine.rerun(r.Context(), id, key, actor(r)); err != nil {
		return apiError(err)
	}
	return s.apiGetExecution(w, r)
}

func (s *Service) apiResolve(w http.ResponseWriter, r *http.Request) error {
	var req ResolveRequest
	if err := httpapi.DecodeJSON(r, &req); err != nil {
		return err
	}
	if req.As != StepSucceeded && req.As != StepFailed {
		return httpapi.BadRequest("as: want succeeded or failed, got %q", req.As)
	}
	id, key := r.PathValue("id"), r.PathValue("key")
	httpapi.SetAuditTarget(r, "execution:"+id+"/"+key)
	httpapi.SetAuditDetail(r, "as="+req.As)
	if err := s.engine.resolve(r.Context(), id, key, actor(r), req.As, req.Note); err != nil {
		return apiError(err)
	}
	return s.apiGetExecution(w, r)
}

// apiApprove approves an approval step (POST /executions/{id}/steps/{key}/approve).
func (s *Service) apiApprove(w http.ResponseWriter, r *http.Request) error {
	return s.apiAnswer(w, r, true)
}

// apiReject rejects an approval step (POST /executions/{id}/steps/{key}/reject).
func (s *Service) apiReject(w http.ResponseWriter, r *http.Request) error {
	return s.apiAnswer(w, r, false)
}

func (s *Service) apiAnswer(w http.ResponseWriter, r *http.Request, approve bool) error {
	var req ApproveRequest
	if r.Header.Get("Content-Type") == "application/x-www-form-urlencoded" {
		req.Answer = json.RawMessage(r.PostFormValue("answer"))
		req.Reason = r.PostFormValue("reason")
		if strings.TrimSpace(string(req.Answer)) == "" {
			req.Answer = nil
		}
	} else if err := httpapi.DecodeJSON(r, &req); err != nil {
		return err
	}
	id, key := r.PathValue("id"), r.PathValue("key")
	httpapi.SetAuditTarget(r, "execution:"+id+"/"+key)
	if err := s.answer(r.Context(), id, key, auth.FromContext(r.Context()), approve, req); err != nil {
		return err
	}
	if r.Header.Get("HX-Request") != "" || r.Header.Get("Content-Type") == "application/x-www-form-urlencoded" {
		http.Redirect(w, r, "/remediation/executions/"+id, http.StatusSeeOther)
		return nil
	}
	return s.apiGetExecution(w, r)
}

// answer approves or rejects a waiting approval step.
func (s *Service) answer(ctx context.Context, id, key string, p *auth.Principal, approve bool, req ApproveRequest) error {
	ex, err := loadExec(ctx, s.db, id)
	if err != nil {
		return apiError(err)
	}
	st, err := loadStep(ctx, s.db, id, key)
	if err != nil {
		return apiError(err)
	}
	c, err := s.runbooks.compiled(ctx, ex.Runbook, ex.Version)
	if err != nil {
		return err
	}
	cs := c.step(st.Name)
	if cs == nil || cs.Type != TypeApproval {
		return httpapi.BadRequest("step %s is not an approval", key)
	}
	if st.Status != StepWaiting {
		return httpapi.Conflict("step %s is %s, not waiting for an answer", key, st.Status)
	}
	if !mayApprove(p, cs.Approvers) {
		return httpapi.Errorf(http.StatusForbidden, "forbidden", "%s may not answer step %s (approvers: %s)",
			p.Actor(), key, strings.Join(cs.Approvers, ", "))
	}
	if approve && !c.selfApprove() && startedBy(p, ex) {
		return httpapi.Errorf(http.StatusForbidden, "forbidden",
			"%s started this run and may not approve its step %s: another approver must (four eyes; "+
				"a runbook may allow it with approval: {self_approve: true})", p.Actor(), key)
	}
	by := p.Actor()
	if !approve {
		s.addHistory(ctx, s.db, id, by, "rejected", key, req.Reason)
		return s.engine.finish(ctx, id, key, st.Attempt, outcome{status: StepFailed, noRetry: true,
			err: "rejected by " + by + ": " + req.Reason, output: map[string]any{"approved": false, "by": by, "reason": req.Reason}})
	}
	var answer any
	if len(req.Answer) > 0 {
		v, err := schema.Decode(req.Answer)
		if err != nil {
			return httpapi.BadRequest("answer: %v", err)
		}
		if cs.answer != nil {
			if err := cs.answer.Validate(v); err != nil {
				return httpapi.BadRequest("answer does not match the step's schema: %v", err)
			}
		}
		json.Unmarshal(req.Answer, &answer)
	} else if cs.answer != nil {
		if err := cs.answer.Validate(map[string]any{}); err != nil {
			return httpapi.BadRequest("answer: required by the step's schema: %v", err)
		}
	}
	s.addHistory(ctx, s.db, id, by, "approved", key, string(req.Answer))
	return s.engine.finish(ctx, id, key, st.Attempt, succeeded(map[string]any{"approved": true, "by": by,
		"answer": answer, "at": s.now().UTC()}))
}

// startedBy reports whether p started the run ex.
func startedBy(p *auth.Principal, ex *Execution) bool {
	return p != nil && ex.StartedBy != "" && ex.StartedBy == p.Actor()
}

// mayApprove: a listed approver (by identity or actor name), or anyone
// with remediation:write when the step lists none.
func mayApprove(p *auth.Principal, approvers []string) bool {
	if p == nil {
		return false
	}
	if len(approvers) == 0 {
		return p.Has(WriteScope)
	}
	for _, a := range approvers {
		if a == p.Actor() || (p.Identity != "" && a == p.Identity) {
			return true
		}
	}
	return false
}

func (s *Service) apiAgents(w http.ResponseWriter, r *http.Request) error {
	list, err := s.agents.list(r.Context())
	if err != nil {
		return err
	}
	return httpapi.WriteJSON(w, http.StatusOK, httpapi.Page[AgentInfo]{Items: list})
}

func (s *Service) apiBootstrap(w http.ResponseWriter, r *http.Request) error {
	p := auth.FromContext(r.Context())
	name, ok := strings.CutPrefix(p.Identity, agent.NATSUserPrefix)
	if !ok || agent.ValidName(name) != nil || !hasScope(p, agent.AgentScope) {
		return httpapi.Errorf(http.StatusForbidden, "forbidden", "not an agent token (want identity agent:<name> and scope %s)", agent.AgentScope)
	}
	signer, err := s.agents.requestSigner(r.Context())
	if err != nil {
		return err
	}
	return httpapi.WriteJSON(w, http.StatusOK, agent.Bootstrap{Name: name, NATS: s.agents.natsURLs(), RequestKey: signer.PublicKey()})
}

func (s *Service) apiPutBundle(w http.ResponseWriter, r *http.Request) error {
	name, version := r.PathValue("name"), r.PathValue("version")
	if err := agent.ValidName(strings.ReplaceAll(name, ".", "-")); err != nil || version == "" || strings.ContainsAny(version, " /") {
		return httpapi.BadRequest("name, version: want an action name and a version without spaces")
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, 8<<20+1))
	if err != nil {
		return httpapi.BadRequest("read body: %v", err)
	}
	if len(b) > 8<<20 || len(b) == 0 {
		return httpapi.BadRequest("a bundle is a gzipped tar of 1 byte to 8 MiB")
	}
	sum := sha256hex(b)
	if want := r.Header.Get("X-Checksum-Sha256"); want != "" && want != sum {
		return httpapi.BadRequest("checksum %s does not match X-Checksum-Sha256 %s", sum, want)
	}
	now := s.nowMS()
	_, err = s.db.ExecContext(r.Context(), `INSERT INTO remediation_bundles (name, version, sha256, data, created_at, created_by)
		VALUES (?, ?, ?, ?, ?, ?)`, name, version, sum, b, now, actor(r))
	if err != nil {
		if isUnique(err) {
			return httpapi.Conflict("bundle %s version %s exists; versions are immutable", name, version)
		}
		return err
	}
	httpapi.SetAuditTarget(r, "bundle:"+name+"@"+version)
	httpapi.SetAuditDetail(r, "sha256="+sum)
	return httpapi.WriteJSON(w, http.StatusCreated, BundleInfo{Name: name, Version: version, SHA256: sum, Size: len(b),
		CreatedAt: fromMS(now), CreatedBy: actor(r)})
}

func (s *Service) apiBundles(w http.ResponseWriter, r *http.Request) error {
	rows, err := s.db.QueryContext(r.Context(), `SELECT name, version, sha256, LENGTH(data), created_at, created_by FROM remediation_bundles
		ORDER BY name, created_at`)
	if err != nil {
		return err
	}
	defer rows.Close()
	out := []BundleInfo{}
	for rows.Next() {
		var b BundleInfo
		var at int64
		if err := rows.Scan(&b.Name, &b.Version, &b.SHA256, &b.Size, &at, &b.CreatedBy); err != nil {
			return err
		}
		b.CreatedAt = fromMS(at)
		out = append(out, b)
	}
	return httpapi.WriteJSON(w, http.StatusOK, httpapi.Page[BundleInfo]{Items: out})
}

func sha256hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func isUnique(err error) bool { return store.IsUniqueViolation(err) }
