package console

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform"
	"github.com/gaffer-sre/gaffer/internal/platform/auth"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
	"github.com/gaffer-sre/gaffer/internal/platform/store"
	"github.com/gaffer-sre/gaffer/internal/platform/ui"
)

// TestHomePageRendersEveryKindOfPanel serves the page with a panel of
// rows (with one left out), an empty one, a failed provider and an
// unhealthy component, and checks what each shows, in page order.
func TestHomePageRendersEveryKindOfPanel(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "gaffer.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	tokens, err := auth.NewTokens(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	const admin = "gft_overview_test_admin_token"
	tokens.SetAdminToken(admin)
	log := slog.New(slog.DiscardHandler)
	router := httpapi.NewRouter(httpapi.Options{Auth: httpapi.TokenAuthenticator{Tokens: tokens}, Log: log})
	shell, err := ui.New(router, tokens, log)
	if err != nil {
		t.Fatal(err)
	}
	fired := time.Date(2031, 3, 4, 9, 30, 0, 0, time.UTC)
	checks := func(context.Context) map[string]string {
		return map[string]string{"database": "ok", "bus": "not connected"}
	}
	New(tokens, nil, nil, checks, []Source{
		{System: "certs", Provider: panels(platform.Panel{Section: platform.SectionSecurity, Title: "Certificates expiring",
			Empty: "none expires in the next 30 days"})},
		{System: "events", Provider: providerFunc(func(context.Context) ([]platform.Panel, error) {
			return nil, errors.New("stream unavailable")
		})},
		{System: "alerting", Provider: panels(platform.Panel{Section: platform.SectionFiring, Title: "Alerts firing", Link: "/alerting",
			Figures: []platform.Figure{{Label: "firing", Value: "9", Tone: platform.ToneBad}},
			Rows: []platform.Row{{Time: fired, Text: "ApiLatencyHigh <b>", Who: "rule", Status: "page", Tone: platform.ToneBad,
				Link: "/alerting/rules/r1"}}, More: 8})},
	}).Register(router, shell)

	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Authorization", "Bearer "+admin)
	rec := httptest.NewRecorder()
	router.ServeHTTP(rec, req)
	body, _ := io.ReadAll(rec.Body)
	html := string(body)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /: %d %s", rec.Code, html)
	}
	inOrder := []string{
		`<h2 class="error">Unhealthy</h2>`, `<b>bus</b>: not connected`,
		`<h2>Firing now</h2>`, `<a href="/alerting">Alerts firing</a>`, `<b>9</b><span>firing</span>`,
		`title="2031-03-04 09:30:00Z">Mar 04 09:30</span>`, `<a href="/alerting/rules/r1">ApiLatencyHigh &lt;b&gt;</a>`,
		`· rule`, `<span class="badge bad">page</span>`, `and 8 more — <a href="/alerting">see all</a>`,
		`<h2>Unavailable</h2>`, `data-system="events"`, `<p class="error">stream unavailable</p>`,
		`<h2>Credentials</h2>`, `Certificates expiring`, `none expires in the next 30 days`,
		`<h2>Health</h2>`,
	}
	at := 0
	for _, want := range inOrder {
		i := strings.Index(html[at:], want)
		if i < 0 {
			t.Fatalf("the page lacks %q after offset %d:\n%s", want, at, html)
		}
		at += i + len(want)
	}

	// Without the right scope, neither the panel nor its failure shows.
	_, secret, err := tokens.Create(ctx, auth.CreateRequest{Name: "reader", Scopes: []string{"certs:read"}})
	if err != nil {
		t.Fatal(err)
	}
	req = httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Authorization", "Bearer "+secret)
	rec = httptest.NewRecorder()
	router.ServeHTTP(rec, req)
	html = rec.Body.String()
	if rec.Code != http.StatusOK || !strings.Contains(html, "Certificates expiring") ||
		strings.Contains(html, "Alerts firing") || strings.Contains(html, "stream unavailable") {
		t.Fatalf("a certs:read token's page (%d) shows other systems' panels or lacks its own:\n%s", rec.Code, html)
	}
}
