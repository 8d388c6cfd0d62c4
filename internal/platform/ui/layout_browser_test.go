package ui

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gaffer-sre/gaffer/internal/platform/browsertest"
)

// layoutPage has one of each layout fault browsertest.LayoutProblems
// looks for, each in an element of its own, and a chart drawn right by
// gaffer.plot.
const layoutPage = `<!doctype html><html><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/static/gaffer.css"><link rel="stylesheet" href="/static/vendor/uPlot.min.css">
<script src="/static/vendor/uPlot.iife.min.js"></script><script src="/static/gaffer.js"></script></head>
<body><main><h1>Layout</h1>
<div class="chart" id="good"></div><div class="chart" id="bad"></div><div class="chart" id="crowded"></div>
<div id="wide" style="width:1000px">wide</div>
<script>
var t0 = 1765000000, times = [], big = [], nulls = [];
for (var i = 0; i < 120; i++) { times.push(t0 + 60 * i); big.push(2500000 + 1000 * i); nulls.push(null); }
var series = [{}, { label: "big", stroke: "#1f5fbf" }];
gaffer.plot({ height: 200, series: series, scales: { x: { time: true } } }, [times, big], document.getElementById("good"));
// The faults: a y axis too narrow for its labels, x ticks 5px apart.
var bad = new uPlot({ width: 360, height: 200, series: series, scales: { x: { time: true } },
  axes: [{ space: 5 }, { size: 20 }] }, [times, big], document.getElementById("bad"));
gaffer.plots.push(bad);
var many = [{}], cols = [times];
for (var k = 0; k < 15; k++) { many.push({ label: "s" + k }); cols.push(k === 3 ? nulls : big); }
var crowded = new uPlot({ width: 360, height: 200, series: many, scales: { x: { time: true } }, axes: [{ space: 90 }, { size: 80 }] },
  cols, document.getElementById("crowded"));
gaffer.plots.push(crowded);
</script></main></body></html>`

// TestLayoutProblemsFindsEachFault checks browsertest.LayoutProblems on a
// page with known faults: each is found, and the chart drawn by
// gaffer.plot (axes sized to their labels, spaced ticks) has none.
func TestLayoutProblemsFindsEachFault(t *testing.T) {
	ctx := browsertest.New(t, 60*time.Second)
	static, err := fs.Sub(assetFS, "assets")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/static/", http.StripPrefix("/static/", http.FileServer(http.FS(static))))
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(layoutPage))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	if err := chromedp.Do(ctx, browsertest.Viewport(390, 844), chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS("#crowded .uplot"))); err != nil {
		t.Fatal(err)
	}
	problems, err := browsertest.LayoutProblems(ctx)
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(problems, "\n")
	for _, want := range []string{
		"page scrolls sideways", "div#wide",
		"div#bad.chart", "is cut off by the chart's edge", "overlap",
		"div#crowded.chart", "the legend lists 15 series", `the legend lists "s3", which has no data`,
		"the legend shows no values until the chart is hovered",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("no problem says %q; the problems:\n%s", want, all)
		}
	}
	if strings.Contains(all, "div#good") {
		t.Errorf("the chart drawn by gaffer.plot has problems:\n%s", all)
	}
}
