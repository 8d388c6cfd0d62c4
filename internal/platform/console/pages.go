package console

import (
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform"
	"github.com/gaffer-sre/gaffer/internal/platform/audit"
	"github.com/gaffer-sre/gaffer/internal/platform/auth"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
	"github.com/gaffer-sre/gaffer/internal/platform/jobs"
	"github.com/gaffer-sre/gaffer/internal/platform/ui"
)

type homeData struct {
	Sections []overviewSection
	// Unhealthy are the checks that fail, shown above everything else.
	Unhealthy []check
	Checks    []check
	Systems   []ui.NavItem
}

// overviewSection is one heading of the overview page and its panels.
type overviewSection struct {
	Title  string
	Panels []overviewPanel
}

// overviewPanel is a panel as the page shows it: times short, in UTC.
type overviewPanel struct {
	platform.Panel
	Rows []overviewRow
}

type overviewRow struct {
	platform.Row
	When string
}

// shortTime is a row's time on the page: month, day and minute in UTC
// (the cell's title holds the full time).
func shortTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("Jan 02 15:04")
}

type check struct {
	Name, Status string
	OK           bool
}

type tokensData struct {
	Tokens  []auth.Token
	Created *CreateTokenResponse
	Error   string
}

type auditData struct {
	Entries []audit.Entry
	Next    string
}

type jobsData struct {
	Jobs   []jobs.Info
	Next   string
	States []string
	State  string
	Kind   string
	Counts map[string]int
}

func (c *Console) pages(s *ui.Shell) {
	s.Nav(ui.NavItem{Title: "Overview", Path: "/", Scope: auth.AuthenticatedScope, Order: 0})
	s.Nav(ui.NavItem{Title: "Jobs", Path: "/jobs", Scope: "jobs:read", Order: 900})
	s.Nav(ui.NavItem{Title: "Audit log", Path: "/audit", Scope: "audit:read", Order: 910})
	s.Nav(ui.NavItem{Title: "Tokens", Path: "/tokens", Scope: auth.AdminScope, Order: 920})

	s.Handle(httpapi.Route{Method: "GET", Path: "/{$}", Scope: auth.AuthenticatedScope, Summary: "Overview",
		Handler: c.homePage})
	s.Handle(httpapi.Route{Method: "GET", Path: "/tokens", Scope: auth.AdminScope, Summary: "Tokens page",
		Handler: c.tokensPageHandler})
	s.Handle(httpapi.Route{Method: "POST", Path: "/tokens", Scope: auth.AdminScope, Summary: "Create a token from the UI",
		Action: "platform.token.create", Handler: c.createTokenForm})
	s.Handle(httpapi.Route{Method: "POST", Path: "/tokens/{id}/revoke", Scope: auth.AdminScope, Summary: "Revoke a token from the UI",
		Action: "platform.token.revoke", Handler: c.revokeTokenForm})
	s.Handle(httpapi.Route{Method: "GET", Path: "/audit", Scope: "audit:read", Summary: "Audit log page", Handler: c.auditPageHandler})
	s.Handle(httpapi.Route{Method: "GET", Path: "/jobs", Scope: "jobs:read", Summary: "Jobs page", Handler: c.jobsPageHandler})
	s.Handle(httpapi.Route{Method: "GET", Path: "/jobs/{id}", Scope: "jobs:read", Summary: "Job page", Handler: c.jobPageHandler})
}

// tokensPageHandler renders the tokens page (GET /tokens).
func (c *Console) tokensPageHandler(w http.ResponseWriter, r *http.Request) error {
	return c.renderTokens(w, r, http.StatusOK, nil, "")
}

// revokeTokenForm revokes a token from the tokens page (POST /tokens/{id}/revoke).
func (c *Console) revokeTokenForm(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	httpapi.SetAuditTarget(r, "token:"+id)
	if err := c.tokens.Revoke(r.Context(), id); err != nil {
		return c.renderTokens(w, r, http.StatusBadRequest, nil, err.Error())
	}
	http.Redirect(w, r, "/tokens", http.StatusSeeOther)
	return nil
}

func (c *Console) homePage(w http.ResponseWriter, r *http.Request) error {
	var d homeData
	p := auth.FromContext(r.Context())
	ov := c.overviewAndHealth(r.Context(), p)
	for _, panel := range ov.Panels {
		if n := len(d.Sections); n == 0 || d.Sections[n-1].Title != panel.Section.String() {
			d.Sections = append(d.Sections, overviewSection{Title: panel.Section.String()})
		}
		view := overviewPanel{Panel: panel}
		for _, row := range panel.Rows {
			view.Rows = append(view.Rows, overviewRow{Row: row, When: shortTime(row.Time)})
		}
		last := &d.Sections[len(d.Sections)-1]
		last.Panels = append(last.Panels, view)
	}
	for name, status := range ov.Health {
		d.Checks = append(d.Checks, check{Name: name, Status: status, OK: status == "ok"})
	}
	sort.Slice(d.Checks, func(i, j int) bool { return d.Checks[i].Name < d.Checks[j].Name })
	for _, ch := range d.Checks {
		if !ch.OK {
			d.Unhealthy = append(d.Unhealthy, ch)
		}
	}
	for _, item := range c.shell.NavItems() {
		if item.Path != "/" && p.Has(item.Scope) {
			d.Systems = append(d.Systems, item)
		}
	}
	return c.home.Render(w, r, http.StatusOK, "Overview", d)
}

func (c *Console) renderTokens(w http.ResponseWriter, r *http.Request, status int, created *CreateTokenResponse, msg string) error {
	toks, err := c.tokens.List(r.Context())
	if err != nil {
		return err
	}
	return c.tokensPage.Render(w, r, status, "Tokens", tokensData{Tokens: toks, Created: created, Error: msg})
}

func (c *Console) createTokenForm(w http.ResponseWriter, r *http.Request) error {
	req := auth.CreateRequest{Name: r.FormValue("name"), Identity: r.FormValue("identity"),
		Scopes:    strings.Fields(strings.ReplaceAll(r.FormValue("scopes"), ",", " ")),
		CreatedBy: auth.FromContext(r.Context()).Actor()}
	if ttl := r.FormValue("ttl"); ttl != "" {
		d, err := time.ParseDuration(ttl)
		if err != nil || d <= 0 {
			return c.renderTokens(w, r, http.StatusBadRequest, nil, "ttl: want a positive duration such as 720h")
		}
		req.TTL = d
	}
	if err := req.Validate(); err != nil {
		httpapi.SetAuditDetail(r, err.Error())
		return c.renderTokens(w, r, http.StatusBadRequest, nil, err.Error())
	}
	tok, secret, err := c.tokens.Create(r.Context(), req)
	if err != nil {
		return err
	}
	httpapi.SetAuditTarget(r, "token:"+tok.ID)
	return c.renderTokens(w, r, http.StatusCreated, &CreateTokenResponse{Token: tok, Secret: secret}, "")
}

func (c *Console) auditPageHandler(w http.ResponseWriter, r *http.Request) error {
	f, err := c.auditFilter(r)
	if err != nil {
		return err
	}
	entries, next, err := c.audit.List(r.Context(), f)
	if err != nil {
		return err
	}
	d := auditData{Entries: entries}
	if next > 0 {
		d.Next = httpapi.EncodeCursor(next)
	}
	return c.auditPage.Render(w, r, http.StatusOK, "Audit log", d)
}

func (c *Console) jobsPageHandler(w http.ResponseWriter, r *http.Request) error {
	f, err := c.jobFilter(r)
	if err != nil {
		return err
	}
	res, err := c.jobs.List(r.Context(), f)
	if err != nil {
		return err
	}
	d := jobsData{Jobs: res.Jobs, Next: res.Next, States: jobs.AllStates,
		State: r.URL.Query().Get("state"), Kind: r.URL.Query().Get("kind")}
	return c.jobsPage.Render(w, r, http.StatusOK, "Jobs", d)
}

func (c *Console) jobPageHandler(w http.ResponseWriter, r *http.Request) error {
	id, err := jobID(r)
	if err != nil {
		return err
	}
	info, err := c.jobs.Get(r.Context(), id)
	if err != nil {
		return jobError(err)
	}
	return c.jobPage.Render(w, r, http.StatusOK, "Job "+r.PathValue("id"), info)
}
