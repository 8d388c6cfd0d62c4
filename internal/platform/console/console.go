// Package console is the platform's own API and pages: the overview (what
// fires, what changed, what expires, how busy the systems are, and every
// component's health), API tokens, the audit log and the job queue.
package console

import (
	"context"
	"embed"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/audit"
	"github.com/gaffer-sre/gaffer/internal/platform/auth"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
	"github.com/gaffer-sre/gaffer/internal/platform/jobs"
	"github.com/gaffer-sre/gaffer/internal/platform/ui"
)

//go:embed templates/*.html
var templates embed.FS

// Console serves the platform's routes and pages.
type Console struct {
	tokens *auth.Tokens
	audit  *audit.Log
	jobs   *jobs.Queue
	checks func(context.Context) map[string]string
	shell  *ui.Shell
	// sources give the overview's panels, each within overviewTimeout.
	sources         []Source
	overviewTimeout time.Duration

	home, tokensPage, auditPage, jobsPage, jobPage *ui.Page
}

// New returns the console. checks reports the health of every component;
// sources are the running systems that contribute to the overview, in
// the order their panels appear within a section.
func New(tokens *auth.Tokens, auditLog *audit.Log, q *jobs.Queue, checks func(context.Context) map[string]string, sources []Source) *Console {
	return &Console{tokens: tokens, audit: auditLog, jobs: q, checks: checks, sources: sources,
		overviewTimeout: DefaultOverviewTimeout}
}

// Register adds the console's API routes and UI pages.
func (c *Console) Register(r *httpapi.Router, s *ui.Shell) {
	c.shell = s
	c.apiRoutes(r)
	c.home = s.Parse(templates, "templates/home.html")
	c.tokensPage = s.Parse(templates, "templates/tokens.html")
	c.auditPage = s.Parse(templates, "templates/audit.html")
	c.jobsPage = s.Parse(templates, "templates/jobs.html")
	c.jobPage = s.Parse(templates, "templates/job.html")
	c.pages(s)
}
