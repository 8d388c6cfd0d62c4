// Package console is the platform's own API and pages: the overview of
// every system's health, API tokens, the audit log and the job queue.
package console

import (
	"context"
	"embed"

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

	home, tokensPage, auditPage, jobsPage, jobPage *ui.Page
}

// New returns the console. checks reports the health of every component.
func New(tokens *auth.Tokens, auditLog *audit.Log, q *jobs.Queue, checks func(context.Context) map[string]string) *Console {
	return &Console{tokens: tokens, audit: auditLog, jobs: q, checks: checks}
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
