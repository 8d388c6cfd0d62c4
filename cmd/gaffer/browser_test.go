package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gaffer-sre/gaffer/internal/platform/browsertest"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
)

// TestBrowserLoginAndNavigation logs in with the admin token in a real
// Chromium and visits every page of the navigation, checking that each
// renders its title and no error.
func TestBrowserLoginAndNavigation(t *testing.T) {
	ctx := browsertest.New(t, 120*time.Second)
	srv := platformtest.Start(t, platformtest.Options{Demo: true})

	// Before login, any page shows the login form.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/audit"),
		chromedp.WaitVisible(chromedp.ID("login-form")),
	); err != nil {
		t.Fatalf("login form not shown before login: %v", err)
	}
	if err := browsertest.Login(ctx, srv.URL, srv.AdminToken); err != nil {
		t.Fatalf("login: %v", err)
	}
	type link struct{ Href, Title string }
	links, err := chromedp.Run(ctx, chromedp.Evaluate[[]link](
		`[...document.querySelectorAll("nav.side a")].map(a => ({Href: a.getAttribute("href"), Title: a.textContent.trim()}))`))
	if err != nil {
		t.Fatal(err)
	}
	if len(links) < 4 {
		t.Fatalf("navigation has %d entries: %+v", len(links), links)
	}
	for _, l := range links {
		if err := chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS(`nav.side a[href="`+l.Href+`"]`)),
			chromedp.WaitVisible(chromedp.CSS(`nav.side a.active[href="`+l.Href+`"]`)),
			chromedp.WaitVisible(chromedp.CSS("main h1")),
		); err != nil {
			t.Fatalf("visit %s: %v", l.Href, err)
		}
		h1, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main h1")))
		if err != nil {
			t.Fatal(err)
		}
		errors, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("p.error").length`))
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimSpace(h1) == "" || h1 == "Error" || errors > 0 {
			t.Errorf("page %s shows h1 %q and %d errors", l.Href, h1, errors)
		}
		t.Logf("visited %s: %s", l.Href, h1)
	}
	// Logging out returns to the login form.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("logout")),
		chromedp.WaitVisible(chromedp.ID("login-form")),
	); err != nil {
		t.Fatalf("logout: %v", err)
	}
}
