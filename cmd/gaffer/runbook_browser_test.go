package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gaffer-sre/gaffer/internal/platform/browsertest"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
)

// TestBrowserRunbooks drives the runbook pages in Chromium: the editor
// shows schema problems with their line as you type and saves a version,
// the run form starts an execution, whose page draws the step graph and
// takes an approval; the demo runbooks and agents page render.
func TestBrowserRunbooks(t *testing.T) {
	ctx := browsertest.New(t, 120*time.Second)
	srv := platformtest.Start(t, platformtest.Options{Demo: true})
	if err := browsertest.Login(ctx, srv.URL, srv.AdminToken); err != nil {
		t.Fatalf("login: %v", err)
	}
	bad := "name: ui-demo\nsteps:\n  - name: a\n    type: teleport\n"
	// One operator runs and approves here, so the runbook waives four eyes.
	good := `name: ui-demo
approval: {self_approve: true}
steps:
  - name: ask
    type: approval
    question: "Go on?"
  - name: done
    type: noop
    output: "${{ steps.ask.output.by }}"
`
	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/remediation/new"),
		chromedp.WaitVisible(chromedp.ID("source")),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("source").value = ""; undefined`),
		chromedp.SendKeys(chromedp.ID("source"), bad),
		chromedp.WaitVisible(chromedp.ID("problem-list")),
	); err != nil {
		t.Fatalf("editor: %v", err)
	}
	problems, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("problem-list")))
	if err != nil || !strings.Contains(problems, "4") || !strings.Contains(problems, "/steps/0/type") {
		t.Fatalf("problems shown: %q %v", problems, err)
	}
	if err := chromedp.Do(ctx,
		chromedp.Evaluate[chromedp.Void](`document.getElementById("source").value = ""; undefined`),
		chromedp.SendKeys(chromedp.ID("source"), good),
		chromedp.WaitVisible(chromedp.ID("valid")),
		chromedp.Click(chromedp.ID("save")),
		chromedp.WaitVisible(chromedp.ID("run-form")),
		chromedp.Click(chromedp.ID("run")),
		chromedp.WaitVisible(chromedp.ID("graph")),
		chromedp.WaitVisible(chromedp.ID("approve")),
		chromedp.Click(chromedp.ID("approve")),
		chromedp.WaitVisible(chromedp.CSS(`#status.succeeded`)),
	); err != nil {
		t.Fatalf("run and approve: %v", err)
	}
	history, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("history")))
	if err != nil || !strings.Contains(history, "approved") || !strings.Contains(history, "admin") {
		t.Fatalf("history after approval: %q %v", history, err)
	}
	for _, page := range []string{"/remediation", "/remediation/executions", "/remediation/agents", "/remediation/runbooks/demo-triage"} {
		if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+page), chromedp.WaitVisible(chromedp.CSS("main h1"))); err != nil {
			t.Fatalf("%s: %v", page, err)
		}
		h1, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main h1")))
		if h1 == "Error" {
			t.Fatalf("%s shows an error", page)
		}
	}
}
