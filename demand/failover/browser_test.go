package failover_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gaffer-sre/gaffer/internal/platform/browsertest"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
)

// TestBrowserFailover drives the failover pages in Chromium: an exercise
// run from its form reports its result and draws its timeline as the
// page refreshes itself; the demo plan is executed from its preview and
// rolled back from the execution's page.
func TestBrowserFailover(t *testing.T) {
	ctx := browsertest.New(t, 120*time.Second)
	srv, _ := start(t, platformtest.Options{Demo: true})
	if err := browsertest.Login(ctx, srv.URL, srv.AdminToken); err != nil {
		t.Fatalf("login: %v", err)
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/failover/exercises"),
		chromedp.WaitVisible(chromedp.ID("run-exercise")),
		chromedp.SetValue(chromedp.ID("clusters"), "60"),
		chromedp.Click(chromedp.ID("run-exercise")),
		chromedp.WaitVisible(chromedp.ID("evacuated")),
		chromedp.WaitVisible(chromedp.CSS("#timeline rect")),
	); err != nil {
		t.Fatalf("exercise: %v", err)
	}
	evacuated, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("evacuated")))
	if err != nil || strings.TrimSpace(evacuated) != "true" {
		t.Fatalf("evacuated: %q %v", evacuated, err)
	}
	if shot := os.Getenv("FAILOVER_SCREENSHOT"); shot != "" {
		if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
			os.WriteFile(shot, png, 0o644)
		}
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/failover/fleets/demo"),
		chromedp.WaitVisible(chromedp.ID("clusters")),
		chromedp.Click(chromedp.ID("plan")),
		chromedp.WaitVisible(chromedp.ID("diff")),
		chromedp.Click(chromedp.ID("execute")),
		chromedp.WaitVisible(chromedp.CSS("#status.succeeded")),
		chromedp.Click(chromedp.ID("rollback")),
		chromedp.WaitVisible(chromedp.CSS("#status.rolled_back")),
	); err != nil {
		t.Fatalf("plan, execute, roll back: %v", err)
	}
	for _, page := range []string{"/failover", "/failover/plans", "/failover/executions"} {
		if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+page), chromedp.WaitVisible(chromedp.CSS("main h1"))); err != nil {
			t.Fatalf("%s: %v", page, err)
		}
		if h1, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main h1"))); h1 == "Error" {
			t.Fatalf("%s shows an error", page)
		}
	}
}
