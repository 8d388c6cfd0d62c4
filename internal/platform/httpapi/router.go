package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/audit"
	"github.com/gaffer-sre/gaffer/internal/platform/auth"
)

// HandlerFunc serves a request and returns an error to send instead of a
// response (an *Error for a client error; anything else is a 500).
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Param documents a query parameter for the OpenAPI document.
type Param struct {
	Name        string
	Description string
	Required    bool
}

// Route is one endpoint. Every route either declares the scope it needs or
// is explicitly Public.
type Route struct {
	// Method is the HTTP method ("GET", "POST", ...).
	Method string
	// Path is a net/http pattern path, e.g. "/api/v1/events/rules/{id}".
	Path string
	// Scope is the scope the caller needs, e.g. "events:write".
	Scope string
	// Public routes need no credentials (health checks, the login page,
	// static assets, the OpenAPI document).
	Public bool
	// UI routes answer errors with HTML pages instead of JSON.
	UI bool
	// Unaudited marks a POST that changes nothing (an OCSP request, an
	// ACME POST-as-GET, a PromQL query sent as a form): it is not written
	// to the audit log. Only public routes and routes needing a read scope
	// may set it; a route that can change state is always audited.
	Unaudited bool
	// AuditSummary is for high-rate machine writes (metrics remote write,
	// event ingest): successful calls are counted and written as one audit
	// entry per actor and minute ("412 calls"), while refused and failed
	// calls are still written one by one.
	AuditSummary bool
	// Streaming marks a GET whose response stays open (server-sent
	// events): the connection's read and write deadlines (the server's
	// --http-read-timeout and --http-write-timeout) are lifted once the
	// caller is authorised, so that they do not cut the stream off. The
	// handler must end the stream with the client, its own end condition
	// or the server's shutdown (Deps.Stopping).
	Streaming bool
	// Summary is a one-line description for the OpenAPI document.
	Summary string
	// Action names the call in the audit log; by default it is derived
	// from the method and path.
	Action string
	// Query documents query parameters.
	Query []Param
	// Request and Response are example values of the JSON body types, used
	// to describe them in the OpenAPI document. Either may be nil.
	Request, Response any
	// Handler serves the route.
	Handler HandlerFunc
}

// Mutating reports whether the route changes state (and so is audited).
func (rt Route) Mutating() bool {
	switch rt.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// AuditAction returns the action name recorded for this route.
func (rt Route) AuditAction() string {
	if rt.Action != "" {
		return rt.Action
	}
	return rt.Method + " " + rt.Path
}

// Credentials is what an Authenticator found on a request.
type Credentials struct {
	Principal *auth.Principal
	// Session is set when the caller authenticated with a UI session
	// cookie; mutating calls must then carry the session's CSRF token.
	Session *auth.Session
}

// Authenticator finds the caller of a request. It returns zero Credentials
// and no error when the request carries none.
type Authenticator interface {
	Authenticate(r *http.Request) (Credentials, error)
}

// Observer is told how each request ended, for metrics.
type Observer func(route Route, status int, elapsed time.Duration)

// Router dispatches requests to routes after authenticating, authorising
// and (for mutating calls) auditing them.
type Router struct {
	mux     *http.ServeMux
	auth    Authenticator
	audit   audit.Recorder
	log     *slog.Logger
	observe Observer
	// uiError renders errors for UI routes; nil means JSON.
	uiError func(w http.ResponseWriter, r *http.Request, err *Error)

	summaries auditSummaries

	mu     sync.Mutex
	routes []Route
}

// Options configure a Router.
type Options struct {
	Auth    Authenticator
	Audit   audit.Recorder
	Log     *slog.Logger
	Observe Observer
}

// NewRouter returns an empty router.
func NewRouter(o Options) *Router {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	return &Router{mux: http.NewServeMux(), auth: o.Auth, audit: o.Audit, log: o.Log, observe: o.Observe}
}

// SetUIErrorRenderer sets how errors on UI routes are shown (the UI shell
// renders a login page for 401 and an error page otherwise).
func (rt *Router) SetUIErrorRenderer(f func(w http.ResponseWriter, r *http.Request, err *Error)) {
	rt.uiError = f
}

// Handle registers a route. It panics on a route that neither declares a
// scope nor is public, or on a malformed scope: both are programming errors
// that must not reach production.
func (rt *Router) Handle(route Route) {
	if route.Handler == nil {
		panic(fmt.Sprintf("httpapi: route %s %s has no handler", route.Method, route.Path))
	}
	if !route.Public {
		if err := auth.ValidateScope(route.Scope); err != nil {
			panic(fmt.Sprintf("httpapi: route %s %s: %v", route.Method, route.Path, err))
		}
		if route.Unaudited && !strings.HasSuffix(route.Scope, ":read") {
			panic(fmt.Sprintf("httpapi: route %s %s: only public and read-scoped routes may be unaudited", route.Method, route.Path))
		}
	}
	if route.Streaming && route.Method != http.MethodGet {
		panic(fmt.Sprintf("httpapi: route %s %s: only GET routes may stream", route.Method, route.Path))
	}
	rt.mu.Lock()
	rt.routes = append(rt.routes, route)
	rt.mu.Unlock()
	rt.mux.Handle(route.Method+" "+route.Path, rt.wrap(route))
}

// Routes returns every registered route, sorted by path then method.
func (rt *Router) Routes() []Route {
	rt.mu.Lock()
	out := append([]Route(nil), rt.routes...)
	rt.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Method < out[j].Method
	})
	return out
}

// ServeHTTP implements http.Handler.
func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := requestIDFrom(r)
	w.Header().Set(RequestIDHeader, id)
	r = r.WithContext(WithRequestID(r.Context(), id))
	if _, pattern := rt.mux.Handler(r); pattern == "" {
		// Unknown path or method: answer in the API's error shape.
		rt.writeError(w, r, Route{UI: !strings.HasPrefix(r.URL.Path, "/api/")},
			NotFound("no route for %s %s", r.Method, r.URL.Path))
		return
	}
	rt.mux.ServeHTTP(w, r)
}

type auditNote struct {
	target string
	detail string
	actor  string
}

type auditKey struct{}

// SetAuditTarget names what a mutating call acted on (e.g. "rule:42"); by
// default the audit log records the request path.
func SetAuditTarget(r *http.Request, target string) {
	if n, ok := r.Context().Value(auditKey{}).(*auditNote); ok {
		n.target = target
	}
}

// SetAuditActor names who acted, for public routes that authenticate the
// caller themselves (the UI login).
func SetAuditActor(r *http.Request, actor string) {
	if n, ok := r.Context().Value(auditKey{}).(*auditNote); ok {
		n.actor = actor
	}
}

// SetAuditDetail adds a short free-text detail to the audit entry.
func SetAuditDetail(r *http.Request, detail string) {
	if n, ok := r.Context().Value(auditKey{}).(*auditNote); ok {
		n.detail = detail
	}
}

func (rt *Router) wrap(route Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		note := &auditNote{target: r.URL.Path}
		ctx := context.WithValue(r.Context(), auditKey{}, note)
		var principal *auth.Principal
		var handlerErr error
		defer func() {
			if rec := recover(); rec != nil {
				rt.log.Error("panic serving request", "route", route.Method+" "+route.Path,
					"request_id", RequestID(ctx), "panic", rec, "stack", string(debug.Stack()))
				if sw.status == 0 {
					rt.writeError(sw, r, route, &Error{Status: 500, Code: "internal", Message: "internal error"})
				}
				handlerErr = fmt.Errorf("panic: %v", rec)
			}
			status := sw.status
			if status == 0 {
				status = http.StatusOK
			}
			if route.Mutating() && !route.Unaudited {
				rt.record(ctx, route, r, principal, note, status, handlerErr)
			}
			if rt.observe != nil {
				rt.observe(route, status, time.Since(start))
			}
		}()
		if !route.Public {
			creds, err := rt.authenticate(r)
			if err != nil {
				handlerErr = err
				rt.writeError(sw, r, route, asError(err))
				return
			}
			principal = creds.Principal
			if principal == nil {
				handlerErr = errUnauthenticated
				rt.writeError(sw, r, route, errUnauthenticated)
				return
			}
			if !principal.Has(route.Scope) {
				handlerErr = errForbidden(route.Scope)
				rt.writeError(sw, r, route, errForbidden(route.Scope))
				return
			}
			if creds.Session != nil && route.Mutating() && !creds.Session.CheckCSRF(csrfFrom(r)) {
				handlerErr = errCSRF
				rt.writeError(sw, r, route, errCSRF)
				return
			}
			ctx = auth.WithPrincipal(ctx, principal)
			if creds.Session != nil {
				ctx = withSession(ctx, creds.Session)
			}
		}
		r = r.WithContext(ctx)
		if route.Streaming {
			// Exempt from the server's timeouts (see Route.Streaming).
			// The errors are ignored: a writer without deadlines (a
			// test recorder) has none to lift.
			rc := http.NewResponseController(w)
			rc.SetReadDeadline(time.Time{})
			rc.SetWriteDeadline(time.Time{})
		}
		if err := route.Handler(sw, r); err != nil {
			handlerErr = err
			if e := asError(err); e.Status >= 500 {
				rt.log.Error("request failed", "route", route.Method+" "+route.Path,
					"request_id", RequestID(ctx), "error", err)
			}
			if sw.status == 0 {
				rt.writeError(sw, r, route, asError(err))
			}
		}
	})
}

func (rt *Router) authenticate(r *http.Request) (Credentials, error) {
	if rt.auth == nil {
		return Credentials{}, nil
	}
	creds, err := rt.auth.Authenticate(r)
	if err != nil {
		if errors.Is(err, auth.ErrInvalidToken) || errors.Is(err, auth.ErrNoToken) {
			return Credentials{}, errUnauthenticated
		}
		return Credentials{}, fmt.Errorf("authenticate: %w", err)
	}
	return creds, nil
}

func (rt *Router) writeError(w http.ResponseWriter, r *http.Request, route Route, e *Error) {
	if route.UI && rt.uiError != nil {
		rt.uiError(w, r, e)
		return
	}
	WriteError(w, e)
}

func (rt *Router) record(ctx context.Context, route Route, r *http.Request, p *auth.Principal,
	note *auditNote, status int, handlerErr error) {
	if rt.audit == nil {
		return
	}
	outcome := audit.OutcomeSuccess
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		outcome = audit.OutcomeDenied
	case status >= 400 || handlerErr != nil:
		outcome = audit.OutcomeFailure
	}
	detail := note.detail
	if detail == "" && handlerErr != nil {
		detail = asError(handlerErr).Message
	}
	actor := p.Actor()
	if note.actor != "" {
		actor = note.actor
	}
	if route.AuditSummary && outcome == audit.OutcomeSuccess {
		rt.summaries.count(ctx, rt.audit, actor, route.AuditAction(), rt.log)
		return
	}
	err := rt.audit.Record(ctx, audit.Entry{
		Actor: actor, Action: route.AuditAction(), Target: note.target,
		RequestID: RequestID(ctx), Outcome: outcome, Status: status,
		RemoteAddr: r.RemoteAddr, Detail: detail,
	})
	if err != nil {
		rt.log.Error("audit record failed", "request_id", RequestID(ctx), "error", err)
	}
}

// statusWriter remembers the status written, and passes Flush through for
// server-sent events.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Flush sends buffered data to the client.
func (w *statusWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
