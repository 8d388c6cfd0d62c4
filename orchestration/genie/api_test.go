package genie_test

import (
	"encoding/json"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/orchestration/genie"
)

// testNow is the fixed time of day the tests run at.
var testNow = time.Date(2026, 12, 7, 8, 20, 0, 0, time.UTC)

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// keys returns the sorted keys of a JSON object.
func keys(t *testing.T, body []byte) []string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func wantKeys(t *testing.T, what string, body []byte, want ...string) {
	t.Helper()
	got := strings.Join(keys(t, body), " ")
	for _, k := range want {
		if !strings.Contains(" "+got+" ", " "+k+" ") {
			t.Errorf("%s lacks %q: has %s", what, k, got)
		}
	}
}

// register creates the testdata's application, cluster and command.
func register(t *testing.T, srv *platformtest.Server, tok string) {
	t.Helper()
	for _, c := range []struct{ path, file, location string }{
		{"/api/v3/applications", "application.json", "/api/v3/applications/hadoop-client-3"},
		{"/api/v3/clusters", "cluster.json", "/api/v3/clusters/yarn-east-sla"},
		{"/api/v3/commands", "command.json", "/api/v3/commands/echo-3"},
	} {
		resp := srv.DoWith("POST", c.path, tok, "application/json", readFile(t, c.file))
		if resp.Status != 201 || resp.Header.Get("Location") != c.location {
			t.Fatalf("POST %s: %d %s, Location %q", c.path, resp.Status, resp.Body, resp.Header.Get("Location"))
		}
	}
}

func waitJob(t *testing.T, srv *platformtest.Server, tok, id string, done func(status string) bool) genie.Job {
	t.Helper()
	var j genie.Job
	platformtest.Eventually(t, "job "+id, func() bool {
		srv.Do("GET", "/api/v3/jobs/"+id, tok, nil).JSON(t, &j)
		return done(j.Status)
	})
	return j
}

func ended(status string) bool {
	switch status {
	case "SUCCEEDED", "FAILED", "KILLED", "INVALID":
		return true
	}
	return false
}

// TestGenieV3APICompatibility drives the v3 API with requests in the
// shapes of Genie's REST documentation (testdata) and checks the answers
// have Genie's statuses, headers and fields: resources, tags, a
// command's applications, and a job through to its output.
func TestGenieV3APICompatibility(t *testing.T) {
	platformtest.EachBackend(t, func(t *testing.T, b platformtest.Backend) {
		srv := platformtest.Start(t, platformtest.Options{Backend: b, Now: platformtest.Anchored(testNow)})
		tok := srv.Token("genie:write")
		register(t, srv, tok)

		resp := srv.Do("GET", "/api/v3/clusters/yarn-east-sla", tok, nil)
		wantKeys(t, "cluster", resp.Body, "id", "name", "user", "version", "status", "tags", "created", "updated", "configs",
			"dependencies", "metadata", "_links")
		var cl genie.Cluster
		resp.JSON(t, &cl)
		if strings.Join(cl.Tags, ",") != "genie.id:yarn-east-sla,genie.name:yarn-east,region:east,sched:sla,type:yarn" {
			t.Errorf("cluster tags %v: want Genie's genie.id and genie.name added", cl.Tags)
		}
		if string(cl.Metadata) != `{"nodes":120}` && string(cl.Metadata) != `{"nodes": 120}` {
			t.Errorf("metadata %s", cl.Metadata)
		}
		resp = srv.Do("GET", "/api/v3/commands/echo-3", tok, nil)
		wantKeys(t, "command", resp.Body, "executable", "checkDelay", "memory", "clusterCriteria", "status")

		// Finding by tag and status answers a HAL page.
		resp = srv.Do("GET", "/api/v3/clusters?tag=sched:sla&status=UP", tok, nil)
		var page struct {
			Embedded map[string][]genie.Cluster `json:"_embedded"`
			Page     genie.PageInfo             `json:"page"`
		}
		resp.JSON(t, &page)
		if len(page.Embedded["clusterList"]) != 1 || page.Page.TotalElements != 1 || page.Page.Size != 10 {
			t.Errorf("find clusters: %s", resp.Body)
		}
		if resp := srv.Do("GET", "/api/v3/clusters?status=OUT_OF_SERVICE", tok, nil); strings.Contains(string(resp.Body), "yarn-east-sla") {
			t.Errorf("status filter ignored: %s", resp.Body)
		}

		// Tags: add, remove one, and genie.id survives a clear.
		if r := srv.Do("POST", "/api/v3/clusters/yarn-east-sla/tags", tok, []string{"tier:gold"}); r.Status != 204 {
			t.Fatalf("add tags: %d %s", r.Status, r.Body)
		}
		srv.Do("DELETE", "/api/v3/clusters/yarn-east-sla/tags/region:east", tok, nil)
		var tags []string
		srv.Do("GET", "/api/v3/clusters/yarn-east-sla/tags", tok, nil).JSON(t, &tags)
		if strings.Join(tags, ",") != "genie.id:yarn-east-sla,genie.name:yarn-east,sched:sla,tier:gold,type:yarn" {
			t.Errorf("tags after add and remove: %v", tags)
		}

		// A command's applications.
		if r := srv.Do("POST", "/api/v3/commands/echo-3/applications", tok, []string{"hadoop-client-3"}); r.Status != 204 {
			t.Fatalf("add applications: %d %s", r.Status, r.Body)
		}
		var apps []genie.Application
		srv.Do("GET", "/api/v3/commands/echo-3/applications", tok, nil).JSON(t, &apps)
		if len(apps) != 1 || apps[0].ID != "hadoop-client-3" {
			t.Errorf("command applications: %+v", apps)
		}
		if r := srv.Do("DELETE", "/api/v3/applications/hadoop-client-3", tok, nil); r.Status != 409 {
			t.Errorf("deleting an application in use: %d, want 409", r.Status)
		}
		var cmds []genie.Command
		srv.Do("GET", "/api/v3/clusters/yarn-east-sla/commands", tok, nil).JSON(t, &cmds)
		if len(cmds) != 1 || cmds[0].ID != "echo-3" {
			t.Errorf("commands of the cluster: %+v", cmds)
		}
		if r := srv.DoWith("POST", "/api/v3/clusters", tok, "application/json", readFile(t, "cluster.json")); r.Status != 409 {
			t.Errorf("a second cluster with the same id: %d, want 409", r.Status)
		}

		// A job: 202 with its Location, then SUCCEEDED with its output.
		resp = srv.DoWith("POST", "/api/v3/jobs", tok, "application/json", readFile(t, "job_request.json"))
		if resp.Status != 202 || resp.Header.Get("Location") != "/api/v3/jobs/job-compat-1" {
			t.Fatalf("submit: %d %s, Location %q", resp.Status, resp.Body, resp.Header.Get("Location"))
		}
		j := waitJob(t, srv, tok, "job-compat-1", ended)
		if j.Status != "SUCCEEDED" || j.ClusterName != "yarn-east" || j.CommandName != "echo" || j.Started == nil || j.Finished == nil {
			t.Fatalf("job: %+v", j)
		}
		resp = srv.Do("GET", "/api/v3/jobs/job-compat-1", tok, nil)
		wantKeys(t, "job", resp.Body, "id", "name", "user", "version", "status", "statusMsg", "started", "finished", "archiveLocation",
			"clusterName", "commandName", "runtime", "commandArgs", "tags", "created", "updated", "grouping", "groupingInstance", "_links")
		if !strings.Contains(string(resp.Body), `"commandArgs":"--date 2026-12-07 'two words'"`) {
			t.Errorf("commandArgs not kept as Genie 3's string: %s", resp.Body)
		}
		var st map[string]string
		srv.Do("GET", "/api/v3/jobs/job-compat-1/status", tok, nil).JSON(t, &st)
		if st["status"] != "SUCCEEDED" {
			t.Errorf("status: %v", st)
		}
		resp = srv.Do("GET", "/api/v3/jobs/job-compat-1/execution", tok, nil)
		wantKeys(t, "execution", resp.Body, "hostName", "processId", "exitCode", "timeout", "archiveStatus")
		var ex genie.JobExecution
		resp.JSON(t, &ex)
		if ex.ExitCode == nil || *ex.ExitCode != 0 || ex.ArchiveStatus != "ARCHIVED" {
			t.Errorf("execution: %s", resp.Body)
		}
		resp = srv.Do("GET", "/api/v3/jobs/job-compat-1/request", tok, nil)
		wantKeys(t, "request", resp.Body, "commandArgs", "clusterCriterias", "commandCriteria", "timeout", "email", "group")
		var cluster genie.Cluster
		srv.Do("GET", "/api/v3/jobs/job-compat-1/cluster", tok, nil).JSON(t, &cluster)
		if cluster.ID != "yarn-east-sla" {
			t.Errorf("job's cluster: %+v", cluster)
		}
		var dir genie.Directory
		srv.Do("GET", "/api/v3/jobs/job-compat-1/output", tok, nil).JSON(t, &dir)
		names := map[string]bool{}
		for _, f := range dir.Files {
			names[f.Name] = true
		}
		if !names["stdout"] || !names["stderr"] || dir.Parent != nil || len(dir.Directories) != 1 || dir.Directories[0].Name != "genie/" ||
			dir.Directories[0].URL != "/api/v3/jobs/job-compat-1/output/genie/" {
			t.Errorf("output listing: %+v", dir)
		}
		var logs genie.Directory
		srv.Do("GET", "/api/v3/jobs/job-compat-1/output/genie/logs", tok, nil).JSON(t, &logs)
		if logs.Parent == nil || logs.Parent.URL != "/api/v3/jobs/job-compat-1/output/genie/" || len(logs.Files) != 2 {
			t.Errorf("genie/logs listing: %+v", logs)
		}
		glog := string(srv.Do("GET", "/api/v3/jobs/job-compat-1/output/genie/logs/genie.log", tok, nil).Body)
		if !strings.Contains(glog, "2026-12-07T08:20") || !strings.Contains(glog, "job ended SUCCEEDED: Job finished successfully.") {
			t.Errorf("genie.log: %q", glog)
		}
		if env := string(srv.Do("GET", "/api/v3/jobs/job-compat-1/output/genie/logs/env.log", tok, nil).Body); !strings.Contains(env, "GENIE_JOB_ID=job-compat-1\n") {
			t.Errorf("env.log: %q", env)
		}
		out := srv.Do("GET", "/api/v3/jobs/job-compat-1/output/stdout", tok, nil)
		if string(out.Body) != "ran: --date 2026-12-07 two words\non yarn-east\n" {
			t.Errorf("stdout: %q", out.Body)
		}
		if e := srv.Do("GET", "/api/v3/jobs/job-compat-1/output/stderr", tok, nil); string(e.Body) != "oops\n" {
			t.Errorf("stderr: %q", e.Body)
		}
		if r := srv.Do("GET", "/api/v3/jobs/job-compat-1/output/../../../etc/passwd", tok, nil); r.Status == 200 {
			t.Errorf("output path escaped the job's directory")
		}
		var found struct {
			Embedded map[string][]genie.JobSearchResult `json:"_embedded"`
		}
		srv.Do("GET", "/api/v3/jobs?user=ana&status=SUCCEEDED&tag=team:growth", tok, nil).JSON(t, &found)
		if list := found.Embedded["jobSearchResultList"]; len(list) != 1 || list[0].ID != "job-compat-1" {
			t.Errorf("job search: %+v", found)
		}

		// PUT replaces, including the status; an OUT_OF_SERVICE cluster
		// is not chosen, and the job is INVALID with 412.
		cl.Status = "OUT_OF_SERVICE"
		cl.Created, cl.Updated, cl.Links = nil, nil, nil
		if r := srv.Do("PUT", "/api/v3/clusters/yarn-east-sla", tok, cl); r.Status != 204 {
			t.Fatalf("PUT cluster: %d %s", r.Status, r.Body)
		}
		req := map[string]any{"name": "n", "user": "ana", "version": "1", "commandArgs": []string{"x"},
			"clusterCriterias": []map[string]any{{"tags": []string{"type:yarn"}}}, "commandCriteria": []string{"type:echo"}}
		resp = srv.Do("POST", "/api/v3/jobs", tok, req)
		if resp.Status != 412 || resp.Header.Get("Location") == "" {
			t.Fatalf("unresolvable job: %d %s", resp.Status, resp.Body)
		}
		srv.Do("GET", resp.Header.Get("Location"), tok, nil).JSON(t, &j)
		if j.Status != "INVALID" || !strings.Contains(j.StatusMsg, "no cluster matches") {
			t.Errorf("unresolvable job: %+v", j)
		}
		var exp genie.Explained
		srv.Do("POST", "/api/v3/jobs/explain", tok, req).JSON(t, &exp)
		if exp.Error == "" || len(exp.Explanation.Clusters) != 1 || !strings.Contains(exp.Explanation.Clusters[0].Reason, "status OUT_OF_SERVICE is not UP") {
			t.Errorf("explain: %+v", exp)
		}
		for body, want := range map[string]string{
			`{"name": "n", "user": "u", "version": "1", "commandCriteria": ["a"]}`:                                                                "clusterCriterias",
			`{"name": "n", "user": "u", "version": "1", "clusterCriterias": [{"tags": ["a"]}]}`:                                                   "commandCriteria",
			`{"user": "u", "version": "1", "commandCriteria": ["a"], "clusterCriterias": [{"tags": ["a"]}]}`:                                      "name",
			`{"name": "n", "user": "u", "version": "1", "colour": "red"}`:                                                                         "colour",
			`{"name": "n", "user": "u", "version": "1", "commandArgs": "'open", "commandCriteria": ["a"], "clusterCriterias": [{"tags": ["a"]}]}`: "not closed",
		} {
			r := srv.DoWith("POST", "/api/v3/jobs", tok, "application/json", body)
			if r.Status != 400 || !strings.Contains(string(r.Body), want) {
				t.Errorf("POST %s: %d %s; want 400 naming %s", body, r.Status, r.Body, want)
			}
		}
	})
}

// TestPatchResources: Genie's PATCH takes a JSON Patch of the v3 shape.
func TestPatchResources(t *testing.T) {
	srv := platformtest.Start(t, platformtest.Options{Now: platformtest.Anchored(testNow)})
	tok := srv.Token("genie:write")
	register(t, srv, tok)
	srv.Do("POST", "/api/v3/commands/echo-3/applications", tok, []string{"hadoop-client-3"})
	patch := `[{"op": "replace", "path": "/status", "value": "OUT_OF_SERVICE"}, {"op": "add", "path": "/tags/-", "value": "tier:gold"},
		{"op": "test", "path": "/metadata/nodes", "value": 120}]`
	if r := srv.DoWith("PATCH", "/api/v3/clusters/yarn-east-sla", tok, "application/json-patch+json", patch); r.Status != 204 {
		t.Fatalf("patch: %d %s", r.Status, r.Body)
	}
	var cl genie.Cluster
	srv.Do("GET", "/api/v3/clusters/yarn-east-sla", tok, nil).JSON(t, &cl)
	if cl.Status != "OUT_OF_SERVICE" || !strings.Contains(strings.Join(cl.Tags, ","), "tier:gold") {
		t.Errorf("patched cluster: %+v", cl)
	}
	// A command keeps its applications through a patch of its shape.
	if r := srv.DoWith("PATCH", "/api/v3/commands/echo-3", tok, "application/json-patch+json",
		`[{"op": "replace", "path": "/executableAndArguments", "value": ["/bin/echo", "-n"]}]`); r.Status != 204 {
		t.Fatalf("patch command: %d %s", r.Status, r.Body)
	}
	var cmd genie.Command
	srv.Do("GET", "/api/v3/commands/echo-3", tok, nil).JSON(t, &cmd)
	var apps []genie.Application
	srv.Do("GET", "/api/v3/commands/echo-3/applications", tok, nil).JSON(t, &apps)
	if cmd.Executable != "/bin/echo -n" || len(apps) != 1 {
		t.Errorf("patched command: %q, %d applications", cmd.Executable, len(apps))
	}
	for patch, want := range map[string]int{
		`[{"op": "replace", "path": "/id", "value": "other"}]`:        400,
		`[{"op": "test", "path": "/status", "value": "UP"}]`:          422,
		`[{"op": "add", "path": "/colour", "value": "red"}]`:          400,
		`[{"op": "replace", "path": "/status", "value": "SLEEPING"}]`: 400,
		`{"op": "add"}`: 400,
	} {
		if r := srv.DoWith("PATCH", "/api/v3/clusters/yarn-east-sla", tok, "application/json-patch+json", patch); r.Status != want {
			t.Errorf("%s: %d %s, want %d", patch, r.Status, r.Body, want)
		}
	}
}
