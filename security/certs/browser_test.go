package certs_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gaffer-sre/gaffer/internal/platform/browsertest"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
)

// TestBrowserInventoryAndRevoke logs in with Chromium, checks that the
// inventory draws its expiry timeline, opens the certificate expiring in
// 10 days and revokes it with the page's form (CSRF included). With
// GAFFER_SCREENSHOTS set to a directory it saves screenshots there.
func TestBrowserInventoryAndRevoke(t *testing.T) {
	ctx := browsertest.New(t, 120*time.Second)
	srv := platformtest.Start(t, platformtest.Options{Demo: true})
	if err := browsertest.Login(ctx, srv.URL, srv.AdminToken); err != nil {
		t.Fatalf("login: %v", err)
	}
	shot := func(name string) {
		dir := os.Getenv("GAFFER_SCREENSHOTS")
		if dir == "" {
			return
		}
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err == nil {
			os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
		}
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/certs"),
		chromedp.WaitVisible(chromedp.CSS("#expiry-chart canvas")),
	); err != nil {
		t.Fatalf("inventory page: %v", err)
	}
	shot("certs-inventory")
	tok := srv.Token("certs:read")
	var id int64
	for _, c := range listCerts(t, srv, tok, "expiring=11d&status=active") {
		id = c.ID
	}
	if id == 0 {
		t.Fatal("no demo certificate expiring within 11 days")
	}
	path := "/certs/c/" + strconv.FormatInt(id, 10)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+path),
		chromedp.WaitVisible(chromedp.ID("lineage")),
	); err != nil {
		t.Fatalf("certificate page: %v", err)
	}
	shot("certs-detail")
	if err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS(`select[name="reason"]`), "superseded"),
		chromedp.Click(chromedp.CSS(`form[action$="/revoke"] button`)),
		chromedp.WaitVisible(chromedp.ID("revoked-at")),
	); err != nil {
		t.Fatalf("revoke from the page: %v", err)
	}
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "revoked") || !strings.Contains(text, "superseded") {
		t.Errorf("after revoking, the page says: %.300s", text)
	}
	shot("certs-revoked")
}
