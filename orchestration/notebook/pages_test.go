package notebook_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/orchestration/notebook"
)

// TestPages: the list and search, a notebook with its run form built
// from the parameters cell, the form starting a run whose page shows
// the cells, its parameters and scraps, and the published rendering with
// the notebook's HTML sanitised.
func TestPages(t *testing.T) {
	needKernel(t)
	srv := platformtest.Start(t, platformtest.Options{})
	tok := srv.AdminToken
	upload(t, srv, tok, "report", ipynb(t, "#parameters\nregion = 'us-east-1'  # where\nlimit = 3", glue,
		"from IPython.display import HTML, display\ndisplay(HTML('<b>bold</b><script>alert(1)</script><img src=x onerror=alert(2)>'))\nglue('where', region * limit)"))
	for path, wants := range map[string][]string{
		"/notebooks":               {`href="/notebooks/report"`},
		"/notebooks?q=nothing":     {"No notebook holds"},
		"/notebooks/report":        {`id="run-form"`, `name="p_region" value="&#39;us-east-1&#39;"`, `name="p_limit" value="3"`, "where", "Publish version 1", "region = &#39;us-east-1&#39;"},
		"/notebooks/nosuch":        {},
		"/notebooks/report/nosuch": {},
	} {
		resp := srv.Do("GET", path, tok, nil)
		if len(wants) == 0 {
			if resp.Status != 404 {
				t.Errorf("%s: %d, want 404", path, resp.Status)
			}
			continue
		}
		if resp.Status != 200 {
			t.Errorf("%s: %d", path, resp.Status)
			continue
		}
		for _, w := range wants {
			if !strings.Contains(string(resp.Body), w) {
				t.Errorf("%s lacks %q", path, w)
			}
		}
	}
	form := url.Values{"p_region": {"'eu-west-1'"}, "p_limit": {"2"}}
	resp := srv.DoWith("POST", "/notebooks/report/run", tok, "application/x-www-form-urlencoded", form.Encode())
	// The client follows the redirect to the run's page.
	var id int64
	if i := strings.Index(string(resp.Body), "<h1>Run "); resp.Status != 200 || i < 0 {
		t.Fatalf("run form: %d %s", resp.Status, resp.Body)
	} else {
		fmt.Sscanf(string(resp.Body[i:]), "<h1>Run %d of report", &id)
	}
	runPath := fmt.Sprintf("/notebook-runs/%d", id)
	run := waitRun(t, srv, tok, id)
	if run.Status != notebook.RunCompleted || run.Scraps["where"] != "eu-west-1eu-west-1" {
		t.Fatalf("run from the form: %+v", run)
	}
	page := string(srv.Do("GET", runPath, tok, nil).Body)
	for _, w := range []string{"completed", "eu-west-1eu-west-1", `class="nb-cell nb-code nb-completed"`, "<b>bold</b>", "injected-parameters"} {
		if !strings.Contains(page, w) {
			t.Errorf("run page lacks %q", w)
		}
	}
	// The cell's source shows the markup escaped; its HTML output keeps
	// none of it.
	if strings.Contains(page, "<script>alert") || strings.Contains(page, "<img src=x") || strings.Contains(page, `onerror="`) {
		t.Errorf("run page shows the notebook's script:\n%s", page)
	}
	if live := srv.Do("GET", runPath+"/live", tok, nil); live.Status != 200 || !strings.Contains(string(live.Body), `id="live"`) {
		t.Errorf("live fragment: %d", live.Status)
	}
	if r := srv.Do("GET", "/notebooks/report/published", tok, nil); r.Status != 404 {
		t.Errorf("unpublished notebook's rendering: %d", r.Status)
	}
	if r := srv.DoWith("POST", "/notebooks/report/publish", tok, "application/x-www-form-urlencoded", ""); r.Status != 200 {
		t.Fatalf("publish: %d %s", r.Status, r.Body)
	}
	if r := srv.Do("GET", "/notebooks/report/published", tok, nil); r.Status != 200 || !strings.Contains(string(r.Body), "region = &#39;us-east-1&#39;") {
		t.Errorf("published rendering: %d", r.Status)
	}
}

func TestFormParams(t *testing.T) {
	if v := notebook.FormValue("'a\\'b'"); v != "a'b" {
		t.Errorf("FormValue single-quoted = %#v", v)
	}
	if v := notebook.FormValue(`"x\ny"`); v != "x\ny" {
		t.Errorf("FormValue double-quoted = %#v", v)
	}
	if v := notebook.FormValue("42"); v != int64(42) {
		t.Errorf("FormValue 42 = %#v", v)
	}
	if v := notebook.FormValue("plain text"); v != "plain text" {
		t.Errorf("FormValue plain = %#v", v)
	}
}
