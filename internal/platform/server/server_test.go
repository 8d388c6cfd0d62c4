package server_test

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/gaffer-sre/gaffer/internal/platform/audit"
	"github.com/gaffer-sre/gaffer/internal/platform/auth"
	"github.com/gaffer-sre/gaffer/internal/platform/console"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
)

func TestTokensAuditAndErrors(t *testing.T) {
	platformtest.EachBackend(t, func(t *testing.T, backend platformtest.Backend) {
		srv := platformtest.Start(t, platformtest.Options{Backend: backend})
		admin := srv.AdminToken

		// Bad input names the field and stores nothing.
		for body, field := range map[string]string{
			`{"name":"x","scopes":["events:fly"]}`:         "scopes[0]",
			`{"name":"x","scopes":["nosuch:read"]}`:        "not defined",
			`{"name":"","scopes":["admin"]}`:               "name",
			`{"name":"x","scopes":["admin"],"x":1}`:        "x",
			`{"name":"x","scopes":"admin"}`:                "scopes",
			`{"name":"x","scopes":["admin"],"ttl":"soon"}`: "ttl",
		} {
			resp := srv.DoWith("POST", "/api/v1/tokens", admin, "application/json", body)
			if resp.Status != 400 || resp.ErrorCode() != "invalid_request" || !strings.Contains(string(resp.Body), field) {
				t.Errorf("POST %s: %d %s, want 400 naming %q", body, resp.Status, resp.Body, field)
			}
		}
		list := srv.Do("GET", "/api/v1/tokens", admin, nil)
		var page httpapi.Page[auth.Token]
		list.JSON(t, &page)
		if len(page.Items) != 0 {
			t.Fatalf("bad requests stored tokens: %+v", page.Items)
		}

		// A scoped token works within its scope and nowhere else.
		resp := srv.Do("POST", "/api/v1/tokens", admin, console.CreateTokenRequest{Name: "reader", Scopes: []string{"audit:read"}})
		if resp.Status != 201 {
			t.Fatalf("create token: %d %s", resp.Status, resp.Body)
		}
		var created console.CreateTokenResponse
		resp.JSON(t, &created)
		if !strings.HasPrefix(created.Secret, auth.TokenPrefix) {
			t.Fatalf("secret %q lacks prefix", created.Secret)
		}
		if r := srv.Do("GET", "/api/v1/audit", created.Secret, nil); r.Status != 200 {
			t.Fatalf("reader on audit: %d", r.Status)
		}
		if r := srv.Do("GET", "/api/v1/jobs", created.Secret, nil); r.Status != 403 || r.ErrorCode() != "forbidden" {
			t.Fatalf("reader on jobs: %d %s", r.Status, r.Body)
		}
		if r := srv.Do("DELETE", "/api/v1/tokens/"+created.Token.ID, created.Secret, nil); r.Status != 403 {
			t.Fatalf("reader revoking: %d", r.Status)
		}

		// Revocation takes effect at once; the token may be named by its
		// name (the audit log records its ID).
		if r := srv.Do("DELETE", "/api/v1/tokens/reader", admin, nil); r.Status != 204 {
			t.Fatalf("revoke: %d %s", r.Status, r.Body)
		}
		if r := srv.Do("GET", "/api/v1/audit", created.Secret, nil); r.Status != 401 {
			t.Fatalf("revoked token: %d", r.Status)
		}
		if r := srv.Do("DELETE", "/api/v1/tokens/tok_nope", admin, nil); r.Status != 404 {
			t.Fatalf("revoke unknown: %d", r.Status)
		}

		// Every mutating call above is in the audit log, denied ones too.
		entries, _, err := srv.Deps().Audit.List(context.Background(), audit.Filter{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		var created201, denied, failed, revoked int
		for _, e := range entries {
			if e.RequestID == "" {
				t.Errorf("audit entry without request ID: %+v", e)
			}
			switch {
			case e.Action == "platform.token.create" && e.Outcome == audit.OutcomeSuccess:
				created201++
			case e.Action == "platform.token.revoke" && e.Outcome == audit.OutcomeDenied:
				denied++
			case e.Action == "platform.token.create" && e.Outcome == audit.OutcomeFailure && e.Status == 400:
				failed++
			case e.Action == "platform.token.revoke" && e.Outcome == audit.OutcomeSuccess && e.Target == "token:"+created.Token.ID:
				revoked++
			}
		}
		if created201 != 1 || denied != 1 || failed != 6 || revoked != 1 {
			t.Fatalf("audit: created=%d denied=%d failed=%d revoked=%d in %+v", created201, denied, failed, revoked, entries)
		}
		// The audit log cannot be changed.
		if _, err := srv.Deps().Store.ExecContext(context.Background(), "UPDATE audit_log SET actor = 'mallory'"); err == nil {
			t.Fatal("audit log accepted an UPDATE")
		}
		if _, err := srv.Deps().Store.ExecContext(context.Background(), "DELETE FROM audit_log"); err == nil {
			t.Fatal("audit log accepted a DELETE")
		}
	})
}

func TestAuditPagination(t *testing.T) {
	srv := platformtest.Start(t, platformtest.Options{})
	for i := 0; i < 7; i++ {
		srv.Do("DELETE", "/api/v1/tokens/tok_missing", srv.AdminToken, nil)
	}
	seen := map[int64]bool{}
	path := "/api/v1/audit?limit=3"
	for pages := 0; path != ""; pages++ {
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
		var page httpapi.Page[audit.Entry]
		srv.Do("GET", path, srv.AdminToken, nil).JSON(t, &page)
		for _, e := range page.Items {
			if seen[e.ID] {
				t.Fatalf("entry %d on two pages", e.ID)
			}
			seen[e.ID] = true
		}
		path = ""
		if page.NextCursor != "" {
			path = "/api/v1/audit?limit=3&cursor=" + url.QueryEscape(page.NextCursor)
		}
	}
	if len(seen) != 7 {
		t.Fatalf("saw %d entries, want 7", len(seen))
	}
	if r := srv.Do("GET", "/api/v1/audit?cursor=!!", srv.AdminToken, nil); r.Status != 400 {
		t.Fatalf("bad cursor: %d", r.Status)
	}
}

func TestUISessionLoginCSRFAndLogout(t *testing.T) {
	srv := platformtest.Start(t, platformtest.Options{})
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	// An anonymous visitor gets the login form with 401.
	resp, err := client.Get(srv.URL + "/jobs")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("anonymous /jobs: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	// A wrong token is refused; a good one logs in.
	resp, _ = client.PostForm(srv.URL+"/login", url.Values{"token": {"gft_wrong"}})
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("wrong token login: %d", resp.StatusCode)
	}
	resp, _ = client.PostForm(srv.URL+"/login", url.Values{"token": {srv.AdminToken}, "next": {"/jobs"}})
	resp.Body.Close()
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/jobs" {
		t.Fatalf("login: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == httpapi.SessionCookie {
			session = c
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode {
		t.Fatalf("session cookie = %+v", session)
	}
	// Open redirects are refused (issue #15 item 12: a body field
	// next=/%09/evil.example arrives as "/\t/evil.example").
	for _, next := range []string{"//evil.example/", "/\t/evil.example", "/%09/evil.example", "/\\evil.example", "https://evil.example/"} {
		resp, _ = client.PostForm(srv.URL+"/login", url.Values{"token": {srv.AdminToken}, "next": {next}})
		resp.Body.Close()
		if resp.Header.Get("Location") != "/" {
			t.Fatalf("login with next=%q redirects to %q", next, resp.Header.Get("Location"))
		}
	}
	resp, _ = client.Get(srv.URL + "/jobs")
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("/jobs after login: %d", resp.StatusCode)
	}
	// A cookie-authenticated mutation without the CSRF token is refused
	// and audited as denied; with it, it passes.
	resp, _ = client.PostForm(srv.URL+"/tokens", url.Values{"name": {"x"}, "scopes": {"admin"}})
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Fatalf("form post without CSRF: %d", resp.StatusCode)
	}
	u, _ := url.Parse(srv.URL)
	for _, c := range jar.Cookies(u) {
		if c.Name == httpapi.SessionCookie {
			session = c // the latest login's session
		}
	}
	sess, err := srv.Deps().Tokens.Session(context.Background(), session.Value)
	if err != nil {
		t.Fatal(err)
	}
	resp, _ = client.PostForm(srv.URL+"/tokens", url.Values{"name": {"x"}, "scopes": {"audit:read"}, "csrf_token": {sess.CSRF}})
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Fatalf("form post with CSRF: %d", resp.StatusCode)
	}
	// Cross-site login posts are refused.
	req, _ := http.NewRequest("POST", srv.URL+"/login", strings.NewReader("token="+srv.AdminToken))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	resp, _ = client.Do(req)
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Fatalf("cross-site login: %d", resp.StatusCode)
	}
	// Logout ends the session.
	resp, _ = client.PostForm(srv.URL+"/logout", url.Values{"csrf_token": {sess.CSRF}})
	resp.Body.Close()
	if resp.StatusCode != 303 {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	if _, err := srv.Deps().Tokens.Session(context.Background(), session.Value); err == nil {
		t.Fatal("session still valid after logout")
	}
}

func TestHealthAndUnknownRoutes(t *testing.T) {
	srv := platformtest.Start(t, platformtest.Options{})
	if r := srv.Do("GET", "/readyz", "", nil); r.Status != 200 || !strings.Contains(string(r.Body), `"database":"ok"`) {
		t.Fatalf("readyz: %d %s", r.Status, r.Body)
	}
	if r := srv.Do("GET", "/healthz", "", nil); r.Status != 200 {
		t.Fatalf("healthz: %d", r.Status)
	}
	r := srv.Do("GET", "/api/v1/nothing-here", srv.AdminToken, nil)
	if r.Status != 404 || r.ErrorCode() != "not_found" {
		t.Fatalf("unknown route: %d %s", r.Status, r.Body)
	}
	if r.Header.Get(httpapi.RequestIDHeader) == "" {
		t.Fatal("no request ID header")
	}
	if r := srv.Do("GET", "/api/v1/jobs?state=bogus", srv.AdminToken, nil); r.Status != 400 || !strings.Contains(string(r.Body), "state") {
		t.Fatalf("bad state filter: %d %s", r.Status, r.Body)
	}
}
