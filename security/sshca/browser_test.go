package sshca

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gaffer-sre/gaffer/internal/platform/browsertest"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
)

// TestBrowserPages drives the SSH CA pages in Chromium: search the issued
// certificates and revoke one, save a policy from the form, and rotate a
// CA, each through a form carrying the session's CSRF token.
func TestBrowserPages(t *testing.T) {
	ctx := browsertest.New(t, 120*time.Second)
	t.Setenv(KEKEnv, "")
	srv := platformtest.Start(t, platformtest.Options{Roles: []string{"sshca"}, Demo: true})
	if err := browsertest.Login(ctx, srv.URL, srv.AdminToken); err != nil {
		t.Fatalf("login: %v", err)
	}
	shot := func(name string) {
		dir := os.Getenv("GAFFER_SCREENSHOT_DIR")
		if dir == "" {
			return
		}
		if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
			os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
		}
	}
	count := func(css string) int {
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(`+"`"+css+"`"+`).length`))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/sshca/certs?q=alice"), chromedp.WaitVisible(chromedp.ID("certs"))); err != nil {
		t.Fatal(err)
	}
	shot("sshca-certs")
	if n := count("#certs tr"); n != 2 {
		t.Fatalf("search for alice shows %d rows, want a header and one certificate", n)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#certs button.danger")), chromedp.WaitVisible(chromedp.ID("revocations"))); err != nil {
		t.Fatal(err)
	}
	shot("sshca-revocations")
	if n := count("#revocations tr"); n != 3 {
		t.Fatalf("after revoking alice's certificate: %d rows, want a header, bob's demo revocation and alice's", n)
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/sshca/policies"), chromedp.WaitVisible(chromedp.ID("body")),
		chromedp.SetValue(chromedp.ID("name"), "ui-test"),
		chromedp.SetValue(chromedp.ID("body"), `{"identities": ["zed"], "max_validity": "10m"}`),
		chromedp.Submit(chromedp.ID("body")),
		chromedp.WaitVisible(chromedp.ID("policies"))); err != nil {
		t.Fatal(err)
	}
	shot("sshca-policies")
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("policies")))
	if err != nil || !strings.Contains(text, "ui-test") || !strings.Contains(text, "10m") {
		t.Fatalf("policies after saving: %v\n%s", err, text)
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/sshca"), chromedp.WaitVisible(chromedp.ID("ca-user")),
		chromedp.Click(chromedp.CSS("#ca-user > form button")),
		// The retire button appears once the old key is merely trusted.
		chromedp.WaitVisible(chromedp.CSS("#ca-user form.inline button.danger"))); err != nil {
		t.Fatal(err)
	}
	shot("sshca-cas")
	if n := count("#ca-user .badge.ok"); n != 1 {
		t.Fatalf("after rotation the user CA shows %d active keys", n)
	}
	if n := count("#ca-user form.inline button.danger"); n != 1 {
		t.Fatalf("after rotation the user CA offers %d keys to retire, want the old one", n)
	}
}
