// Package ui is the shell every Gaffer page lives in: a server-rendered
// layout (html/template) with navigation (one entry per system), the token
// login that becomes a session cookie, CSRF tokens for forms and htmx
// requests, error pages, and the vendored htmx and uPlot assets, all
// embedded in the binary.
//
// A system adds pages with Shell.Parse (its templates, each defining
// "content" and optionally "head"), Shell.Handle (a route whose errors are
// shown as pages) and Shell.Nav (its entry in the navigation).
package ui
