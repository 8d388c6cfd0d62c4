package changepoint

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gaffer-sre/gaffer/internal/platform/browsertest"
)

// TestBrowserChart pastes a signal with three levels into the page in a
// real Chromium, and checks the breakpoints listed and the chart: one
// canvas whose segments are shaded in alternating colours.
func TestBrowserChart(t *testing.T) {
	ctx := browsertest.New(t, 120*time.Second)
	srv, tok, _ := start(t)
	if err := browsertest.Login(ctx, srv.URL, tok); err != nil {
		t.Fatalf("login: %v", err)
	}
	signal := strings.Repeat("1\n", 20) + strings.Repeat("8\n", 20) + strings.Repeat("3\n", 20)
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`nav.side a[href="/changepoint"]`)),
		chromedp.WaitVisible(chromedp.ID("signal-form")),
		chromedp.SendKeys(chromedp.ID("sig-signal"), signal),
		chromedp.SetValue(chromedp.ID("sig-method"), "binseg"),
		chromedp.Clear(chromedp.ID("sig-pen")),
		chromedp.SendKeys(chromedp.ID("sig-n_bkps"), "2"),
		chromedp.SendKeys(chromedp.ID("sig-jump"), "1"),
		chromedp.Click(chromedp.ID("detect-signal")),
		chromedp.WaitVisible(chromedp.CSS(".cp-chart canvas")),
	); err != nil {
		t.Fatalf("detect from the page: %v", err)
	}
	bkps, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
		`[...document.querySelectorAll(".cp-segments td.bkp")].map(td => td.textContent)`))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(bkps, ",") != "20,40,60" {
		t.Fatalf("breakpoints listed: %v", bkps)
	}
	// Sample the canvas in the middle of each segment, halfway up the
	// plot (no series line passes there): blue, orange, blue shading.
	colours, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(() => {
		const el = document.querySelector(".cp-chart"), over = el.querySelector(".u-over");
		const canvas = el.querySelector("canvas"), g = canvas.getContext("2d"), r = window.devicePixelRatio || 1;
		return [10, 30, 50].map(c => {
			const x = (over.offsetLeft + c / 59 * over.offsetWidth) * r, y = (over.offsetTop + over.offsetHeight / 2) * r;
			const [red, , blue] = g.getImageData(Math.round(x), Math.round(y), 1, 1).data;
			return blue > red ? "blue" : red > blue ? "orange" : "none";
		});
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(colours, ",") != "blue,orange,blue" {
		t.Errorf("segment shading: %v", colours)
	}
}
