package httpapi

import (
	"context"
	"net/http"
	"strings"

	"github.com/gaffer-sre/gaffer/internal/platform/auth"
)

// SessionCookie is the name of the UI session cookie.
const SessionCookie = "gaffer_session"

// CSRFHeader and CSRFField carry the session's CSRF token on mutating
// requests made from the UI.
const (
	CSRFHeader = "X-CSRF-Token"
	CSRFField  = "csrf_token"
)

// TokenAuthenticator authenticates with a bearer token, or else a UI
// session cookie.
type TokenAuthenticator struct {
	Tokens *auth.Tokens
}

// Authenticate implements Authenticator.
func (a TokenAuthenticator) Authenticate(r *http.Request) (Credentials, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, secret, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "Bearer") {
			return Credentials{}, Errorf(http.StatusUnauthorized, "unauthenticated",
				"Authorization header: want \"Bearer <token>\"")
		}
		p, err := a.Tokens.Verify(r.Context(), strings.TrimSpace(secret))
		if err != nil {
			return Credentials{}, err
		}
		return Credentials{Principal: p}, nil
	}
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return Credentials{}, nil
	}
	s, err := a.Tokens.Session(r.Context(), c.Value)
	if err != nil {
		return Credentials{}, err
	}
	return Credentials{Principal: s.Principal, Session: s}, nil
}

func csrfFrom(r *http.Request) string {
	if v := r.Header.Get(CSRFHeader); v != "" {
		return v
	}
	ct := r.Header.Get("Content-Type")
	if strings.HasPrefix(ct, "application/x-www-form-urlencoded") || strings.HasPrefix(ct, "multipart/form-data") {
		return r.FormValue(CSRFField)
	}
	return ""
}

type sessionKey struct{}

func withSession(ctx context.Context, s *auth.Session) context.Context {
	return context.WithValue(ctx, sessionKey{}, s)
}

// SessionFrom returns the UI session of the request, or nil for bearer
// token calls. Pages use it to embed the CSRF token in forms.
func SessionFrom(ctx context.Context) *auth.Session {
	s, _ := ctx.Value(sessionKey{}).(*auth.Session)
	return s
}
