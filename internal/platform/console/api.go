package console

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/audit"
	"github.com/gaffer-sre/gaffer/internal/platform/auth"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
	"github.com/gaffer-sre/gaffer/internal/platform/jobs"
)

// CreateTokenRequest is the body of POST /api/v1/tokens.
type CreateTokenRequest struct {
	Name     string   `json:"name"`
	Identity string   `json:"identity,omitempty"`
	Scopes   []string `json:"scopes"`
	// TTL is a Go duration ("720h"); empty means the token does not expire.
	TTL string `json:"ttl,omitempty"`
}

// CreateTokenResponse carries the new token's secret, shown only once.
type CreateTokenResponse struct {
	Token  auth.Token `json:"token"`
	Secret string     `json:"secret"`
}

func (c *Console) apiRoutes(r *httpapi.Router) {
	r.Handle(httpapi.Route{Method: "GET", Path: "/api/v1/whoami", Scope: auth.AuthenticatedScope,
		Summary: "The caller's identity and scopes", Response: auth.Principal{},
		Handler: c.whoami})
	r.Handle(httpapi.Route{Method: "GET", Path: "/api/v1/overview", Scope: auth.AuthenticatedScope,
		Summary:  "What fires, what changed, what expires and how busy the systems are; each system's panels need its read scope",
		Response: Overview{}, Handler: c.getOverview})
	r.Handle(httpapi.Route{Method: "POST", Path: "/api/v1/tokens", Scope: auth.AdminScope, Action: "platform.token.create",
		Summary: "Create a scoped API token", Request: CreateTokenRequest{}, Response: CreateTokenResponse{},
		Handler: c.createToken})
	r.Handle(httpapi.Route{Method: "GET", Path: "/api/v1/tokens", Scope: auth.AdminScope,
		Summary: "List API tokens (never their secrets)", Response: httpapi.Page[auth.Token]{},
		Handler: c.listTokens})
	r.Handle(httpapi.Route{Method: "DELETE", Path: "/api/v1/tokens/{id}", Scope: auth.AdminScope, Action: "platform.token.revoke",
		Summary: "Revoke an API token, named by its ID, its name or a unique ID prefix", Handler: c.revokeToken})
	r.Handle(httpapi.Route{Method: "GET", Path: "/api/v1/audit", Scope: "audit:read",
		Summary: "The audit log, newest first", Response: httpapi.Page[audit.Entry]{},
		Query: []httpapi.Param{{Name: "actor"}, {Name: "action", Description: "prefix"}, {Name: "target", Description: "substring"},
			{Name: "outcome"}, {Name: "since", Description: "RFC 3339"}, {Name: "until", Description: "RFC 3339"},
			{Name: "limit"}, {Name: "cursor"}},
		Handler: c.listAudit})
	r.Handle(httpapi.Route{Method: "GET", Path: "/api/v1/jobs", Scope: "jobs:read",
		Summary: "Background jobs, newest first; state=discarded,cancelled is the dead list", Response: httpapi.Page[jobs.Info]{},
		Query:   []httpapi.Param{{Name: "state", Description: "comma-separated states"}, {Name: "kind", Description: "comma-separated kinds"}, {Name: "limit"}, {Name: "cursor"}},
		Handler: c.listJobs})
	r.Handle(httpapi.Route{Method: "GET", Path: "/api/v1/jobs/{id}", Scope: "jobs:read",
		Summary: "One background job", Response: jobs.Info{}, Handler: c.getJob})
	r.Handle(httpapi.Route{Method: "POST", Path: "/api/v1/jobs/{id}/retry", Scope: "jobs:write", Action: "platform.job.retry",
		Summary: "Run a job again now (re-drive it from the dead list)", Response: jobs.Info{}, Handler: c.retryJob})
	r.Handle(httpapi.Route{Method: "POST", Path: "/api/v1/jobs/{id}/cancel", Scope: "jobs:write", Action: "platform.job.cancel",
		Summary: "Cancel a job", Response: jobs.Info{}, Handler: c.cancelJob})
}

// whoami answers the caller's identity and scopes (GET /api/v1/whoami).
func (c *Console) whoami(w http.ResponseWriter, r *http.Request) error {
	return httpapi.WriteJSON(w, http.StatusOK, auth.FromContext(r.Context()))
}

// listTokens lists the API tokens, never their secrets (GET /api/v1/tokens).
func (c *Console) listTokens(w http.ResponseWriter, r *http.Request) error {
	toks, err := c.tokens.List(r.Context())
	if err != nil {
		return err
	}
	return httpapi.WriteJSON(w, http.StatusOK, httpapi.Page[auth.Token]{Items: nonNil(toks)})
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (c *Console) createToken(w http.ResponseWriter, r *http.Request) error {
	var req CreateTokenRequest
	if err := httpapi.DecodeJSON(r, &req); err != nil {
		return err
	}
	var ttl time.Duration
	if req.TTL != "" {
		d, err := time.ParseDuration(req.TTL)
		if err != nil || d <= 0 {
			return httpapi.BadRequest("ttl: want a positive Go duration such as \"720h\", got %q", req.TTL)
		}
		ttl = d
	}
	create := auth.CreateRequest{Name: req.Name, Identity: req.Identity, Scopes: req.Scopes, TTL: ttl,
		CreatedBy: auth.FromContext(r.Context()).Actor()}
	if err := create.Validate(); err != nil {
		return httpapi.BadRequest("%v", err)
	}
	tok, secret, err := c.tokens.Create(r.Context(), create)
	if err != nil {
		return err
	}
	httpapi.SetAuditTarget(r, "token:"+tok.ID)
	httpapi.SetAuditDetail(r, "scopes="+strings.Join(tok.Scopes, ","))
	return httpapi.WriteJSON(w, http.StatusCreated, CreateTokenResponse{Token: tok, Secret: secret})
}

// revokeToken revokes the token {id} names: its ID, the name of an active
// token, or a unique prefix of an active token's ID (DELETE /api/v1/tokens/{id}).
func (c *Console) revokeToken(w http.ResponseWriter, r *http.Request) error {
	ref := r.PathValue("id")
	httpapi.SetAuditTarget(r, "token:"+ref)
	tok, err := c.tokens.Resolve(r.Context(), ref)
	switch {
	case errors.Is(err, auth.ErrTokenNotFound):
		return httpapi.NotFound("token %q not found", ref)
	case errors.Is(err, auth.ErrTokenAmbiguous):
		return httpapi.Errorf(http.StatusConflict, "ambiguous", "%v", err)
	case err != nil:
		return err
	}
	httpapi.SetAuditTarget(r, "token:"+tok.ID)
	if err := c.tokens.Revoke(r.Context(), tok.ID); err != nil {
		if errors.Is(err, auth.ErrTokenNotFound) {
			return httpapi.NotFound("token %q not found", ref)
		}
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (c *Console) auditFilter(r *http.Request) (audit.Filter, error) {
	q := r.URL.Query()
	f := audit.Filter{Actor: q.Get("actor"), Action: q.Get("action"), Target: q.Get("target"), Outcome: q.Get("outcome")}
	for name, dst := range map[string]*time.Time{"since": &f.Since, "until": &f.Until} {
		if v := q.Get(name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return f, httpapi.BadRequest("%s: want an RFC 3339 time, got %q", name, v)
			}
			*dst = t
		}
	}
	limit, err := httpapi.Limit(r, 100, 1000)
	if err != nil {
		return f, err
	}
	f.Limit = limit
	if _, err := httpapi.DecodeCursor(r, &f.Before); err != nil {
		return f, err
	}
	return f, nil
}

func (c *Console) listAudit(w http.ResponseWriter, r *http.Request) error {
	f, err := c.auditFilter(r)
	if err != nil {
		return err
	}
	entries, next, err := c.audit.List(r.Context(), f)
	if err != nil {
		return err
	}
	page := httpapi.Page[audit.Entry]{Items: nonNil(entries)}
	if next > 0 {
		page.NextCursor = httpapi.EncodeCursor(next)
	}
	return httpapi.WriteJSON(w, http.StatusOK, page)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (c *Console) jobFilter(r *http.Request) (jobs.ListFilter, error) {
	limit, err := httpapi.Limit(r, 100, 1000)
	if err != nil {
		return jobs.ListFilter{}, err
	}
	f := jobs.ListFilter{States: splitList(r.URL.Query().Get("state")), Kinds: splitList(r.URL.Query().Get("kind")),
		Limit: limit, Cursor: r.URL.Query().Get("cursor")}
	for _, st := range f.States {
		if !jobs.ValidState(st) {
			return f, httpapi.BadRequest("state: %q is not one of %s", st, strings.Join(jobs.AllStates, ", "))
		}
	}
	if f.Cursor != "" && !jobs.ValidCursor(f.Cursor) {
		return f, httpapi.BadRequest("cursor: malformed; pass back the next_cursor of a previous page unchanged")
	}
	return f, nil
}

func (c *Console) listJobs(w http.ResponseWriter, r *http.Request) error {
	f, err := c.jobFilter(r)
	if err != nil {
		return err
	}
	res, err := c.jobs.List(r.Context(), f)
	if err != nil {
		return err
	}
	return httpapi.WriteJSON(w, http.StatusOK, httpapi.Page[jobs.Info]{Items: nonNil(res.Jobs), NextCursor: res.Next})
}

func jobID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, httpapi.BadRequest("id: want a positive integer, got %q", r.PathValue("id"))
	}
	httpapi.SetAuditTarget(r, "job:"+r.PathValue("id"))
	return id, nil
}

func jobError(err error) error {
	if errors.Is(err, jobs.ErrNotFound) {
		return httpapi.NotFound("%v", err)
	}
	return err
}

func (c *Console) getJob(w http.ResponseWriter, r *http.Request) error {
	id, err := jobID(r)
	if err != nil {
		return err
	}
	info, err := c.jobs.Get(r.Context(), id)
	if err != nil {
		return jobError(err)
	}
	return httpapi.WriteJSON(w, http.StatusOK, info)
}

func (c *Console) retryJob(w http.ResponseWriter, r *http.Request) error {
	id, err := jobID(r)
	if err != nil {
		return err
	}
	info, err := c.jobs.Retry(r.Context(), id)
	if err != nil {
		return jobError(err)
	}
	return c.respondJob(w, r, info)
}

func (c *Console) cancelJob(w http.ResponseWriter, r *http.Request) error {
	id, err := jobID(r)
	if err != nil {
		return err
	}
	info, err := c.jobs.CancelJob(r.Context(), id)
	if err != nil {
		return jobError(err)
	}
	return c.respondJob(w, r, info)
}

// respondJob answers API calls with JSON and UI form posts with a redirect
// back to the job's page.
func (c *Console) respondJob(w http.ResponseWriter, r *http.Request, info jobs.Info) error {
	if httpapi.SessionFrom(r.Context()) != nil && !strings.Contains(r.Header.Get("Accept"), "application/json") {
		http.Redirect(w, r, "/jobs/"+strconv.FormatInt(info.ID, 10), http.StatusSeeOther)
		return nil
	}
	return httpapi.WriteJSON(w, http.StatusOK, info)
}
