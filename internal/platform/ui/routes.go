package ui

import (
	"errors"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/auth"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
)

type loginData struct {
	Next  string
	Error string
}

func (s *Shell) registerRoutes() {
	assets, _ := fs.Sub(assetFS, "assets")
	s.Handle(httpapi.Route{Method: "GET", Path: "/static/", Public: true, Summary: "UI assets",
		Handler: Assets("/static/", assets)})
	s.Handle(httpapi.Route{Method: "GET", Path: "/login", Public: true, Summary: "Login form",
		Handler: s.handleLoginForm})
	s.Handle(httpapi.Route{Method: "POST", Path: "/login", Public: true, Summary: "Log in with a token",
		Action: "platform.session.login", Handler: s.handleLogin})
	s.Handle(httpapi.Route{Method: "POST", Path: "/logout", Scope: auth.AuthenticatedScope,
		Summary: "Log out", Action: "platform.session.logout", Handler: s.handleLogout})
}

// handleLoginForm renders the login form (GET /login).
func (s *Shell) handleLoginForm(w http.ResponseWriter, r *http.Request) error {
	return s.login.Render(w, r, http.StatusOK, "Log in", loginData{Next: safeNext(r.URL.Query().Get("next"))})
}

// handleLogin turns a valid token into a session cookie (POST /login).
func (s *Shell) handleLogin(w http.ResponseWriter, r *http.Request) error {
	if !sameOrigin(r) {
		return httpapi.Errorf(http.StatusForbidden, "csrf", "login form posted from another site")
	}
	next := safeNext(r.FormValue("next"))
	sess, err := s.tokens.Login(r.Context(), r.FormValue("token"))
	if err != nil {
		if errors.Is(err, auth.ErrInvalidToken) || errors.Is(err, auth.ErrNoToken) {
			httpapi.SetAuditDetail(r, "login refused: invalid token")
			return s.login.Render(w, r, http.StatusUnauthorized, "Log in",
				loginData{Next: next, Error: "That token is not valid, has expired, or was revoked."})
		}
		return err
	}
	httpapi.SetAuditTarget(r, "session:"+sess.Principal.TokenID)
	httpapi.SetAuditActor(r, sess.Principal.Actor())
	httpapi.SetAuditDetail(r, "UI login")
	http.SetCookie(w, &http.Cookie{
		Name: httpapi.SessionCookie, Value: sess.ID, Path: "/", Expires: sess.ExpiresAt,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: isHTTPS(r),
	})
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

// handleLogout ends the session (POST /logout).
func (s *Shell) handleLogout(w http.ResponseWriter, r *http.Request) error {
	if c, err := r.Cookie(httpapi.SessionCookie); err == nil {
		if err := s.tokens.Logout(r.Context(), c.Value); err != nil {
			return err
		}
	}
	http.SetCookie(w, &http.Cookie{Name: httpapi.SessionCookie, Value: "", Path: "/", MaxAge: -1,
		Expires: time.Unix(0, 0), HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: isHTTPS(r)})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
	return nil
}

func (s *Shell) renderError(w http.ResponseWriter, r *http.Request, e *httpapi.Error) {
	if e.Status == http.StatusUnauthorized {
		next := r.URL.RequestURI()
		if r.Method != http.MethodGet {
			next = "/"
		}
		if r.Header.Get("HX-Request") == "true" {
			w.Header().Set("HX-Redirect", "/login?next="+url.QueryEscape(next))
		}
		if err := s.login.Render(w, r, http.StatusUnauthorized, "Log in", loginData{Next: safeNext(next)}); err != nil {
			s.log.Error("render login page", "error", err)
		}
		return
	}
	if err := s.error.Render(w, r, e.Status, "Error", e); err != nil {
		s.log.Error("render error page", "error", err)
	}
}

// sameOrigin refuses cross-site form posts when the browser says where
// they come from (login CSRF); requests without Origin or Referer (curl)
// pass.
func sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" || origin == "null" {
		origin = r.Header.Get("Referer")
	}
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && u.Host == r.Host
}

func isHTTPS(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}
