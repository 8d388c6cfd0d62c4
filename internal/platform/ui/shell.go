package ui

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/auth"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// NavItem is one entry of the navigation.
type NavItem struct {
	Title string
	Path  string
	// Scope hides the entry from users who lack it.
	Scope string
	// Order sorts entries (lower first); ties by title.
	Order int
	// Active is set when rendering, for the entry of the current page.
	Active bool
}

// Shell is the UI of one server.
type Shell struct {
	router *httpapi.Router
	tokens *auth.Tokens
	log    *slog.Logger
	base   *template.Template

	mu  sync.Mutex
	nav []NavItem

	login *Page
	error *Page
}

// New creates the shell and registers its own routes (assets, login,
// logout) on router.
func New(router *httpapi.Router, tokens *auth.Tokens, log *slog.Logger) (*Shell, error) {
	if log == nil {
		log = slog.Default()
	}
	base, err := template.New("layout").Funcs(funcs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("ui: parse layout: %w", err)
	}
	s := &Shell{router: router, tokens: tokens, log: log, base: base}
	s.login = s.Parse(templateFS, "templates/login.html")
	s.error = s.Parse(templateFS, "templates/error.html")
	router.SetUIErrorRenderer(s.renderError)
	s.registerRoutes()
	return s, nil
}

// Nav adds an entry to the navigation.
func (s *Shell) Nav(item NavItem) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nav = append(s.nav, item)
	sort.SliceStable(s.nav, func(i, j int) bool {
		if s.nav[i].Order != s.nav[j].Order {
			return s.nav[i].Order < s.nav[j].Order
		}
		return s.nav[i].Title < s.nav[j].Title
	})
}

// NavItems returns the navigation entries, sorted.
func (s *Shell) NavItems() []NavItem {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]NavItem(nil), s.nav...)
}

// Handle registers a UI route: like an API route, but its errors are shown
// as pages and an unauthenticated visitor gets the login form.
func (s *Shell) Handle(route httpapi.Route) {
	route.UI = true
	s.router.Handle(route)
}

// Page is a parsed page template: the layout plus the page's own files.
type Page struct {
	shell *Shell
	tmpl  *template.Template
}

// Parse builds a page from the layout and files in fsys (each may define
// "content", "head" and helper templates). Pages are compiled into the
// binary, so a parse error is a programming error and panics.
func (s *Shell) Parse(fsys fs.FS, files ...string) *Page {
	t := template.Must(s.base.Clone())
	t = template.Must(t.ParseFS(fsys, files...))
	return &Page{shell: s, tmpl: t}
}

// View is what the layout renders; Data is the page's own.
type View struct {
	Title     string
	Nav       []NavItem
	Principal *auth.Principal
	CSRF      string
	Path      string
	Query     url.Values
	Data      any
	Now       time.Time
}

// Render writes the page with the given status. The page's template sees
// the View; its own data is .Data.
func (p *Page) Render(w http.ResponseWriter, r *http.Request, status int, title string, data any) error {
	v := p.shell.view(r, title, data)
	var buf bytes.Buffer
	if err := p.tmpl.ExecuteTemplate(&buf, "layout", v); err != nil {
		return fmt.Errorf("ui: render %s: %w", title, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	setSecurityHeaders(w)
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

// RenderFragment writes one named template of the page without the layout
// (for htmx partial updates).
func (p *Page) RenderFragment(w http.ResponseWriter, r *http.Request, name string, data any) error {
	v := p.shell.view(r, "", data)
	var buf bytes.Buffer
	if err := p.tmpl.ExecuteTemplate(&buf, name, v); err != nil {
		return fmt.Errorf("ui: render fragment %s: %w", name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, err := w.Write(buf.Bytes())
	return err
}

func (s *Shell) view(r *http.Request, title string, data any) View {
	p := auth.FromContext(r.Context())
	v := View{Title: title, Principal: p, Path: r.URL.Path, Query: r.URL.Query(), Data: data, Now: time.Now()}
	if sess := httpapi.SessionFrom(r.Context()); sess != nil {
		v.CSRF = sess.CSRF
	}
	if p != nil {
		active := -1 // the entry with the longest path that covers this page
		for _, item := range s.NavItems() {
			if !p.Has(item.Scope) {
				continue
			}
			covers := item.Path == r.URL.Path || (item.Path != "/" && strings.HasPrefix(r.URL.Path, item.Path+"/"))
			if covers && (active < 0 || len(item.Path) > len(v.Nav[active].Path)) {
				active = len(v.Nav)
			}
			v.Nav = append(v.Nav, item)
		}
		if active >= 0 {
			v.Nav[active].Active = true
		}
	}
	return v
}

func setSecurityHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'")
}

var funcs = template.FuncMap{
	"json": func(v any) (template.JS, error) {
		b, err := json.Marshal(v)
		return template.JS(b), err
	},
	"jsonIndent": func(v any) (string, error) {
		b, err := json.MarshalIndent(v, "", "  ")
		return string(b), err
	},
	"time": func(t any) string {
		switch v := t.(type) {
		case time.Time:
			if v.IsZero() {
				return ""
			}
			return v.UTC().Format("2006-01-02 15:04:05Z")
		case *time.Time:
			if v == nil || v.IsZero() {
				return ""
			}
			return v.UTC().Format("2006-01-02 15:04:05Z")
		}
		return fmt.Sprint(t)
	},
	"ago": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		d := time.Since(t).Round(time.Second)
		if d < 0 {
			return "in " + (-d).String()
		}
		return d.String() + " ago"
	},
	"truncate": func(n int, s string) string {
		if len(s) <= n {
			return s
		}
		return s[:n] + "…"
	},
	"join":  strings.Join,
	"add":   func(a, b int) int { return a + b },
	"lower": strings.ToLower,
	"withQuery": func(path string, kv ...string) string {
		q := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] != "" {
				q.Set(kv[i], kv[i+1])
			}
		}
		if len(q) == 0 {
			return path
		}
		return path + "?" + q.Encode()
	},
}
