package genie_test

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
)

// multipartJob builds a submission as pygenie's Genie 3 adapter sends
// it: a "request" part holding the JSON (empty values left out) and one
// "attachment" part per file.
func multipartJob(t *testing.T, request map[string]any, files map[string]string) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="request"; filename=""`)
	h.Set("Content-Type", "application/json")
	pw, _ := mw.CreatePart(h)
	json.NewEncoder(pw).Encode(request)
	for name, data := range files {
		fw, _ := mw.CreateFormFile("attachment", name)
		fw.Write([]byte(data))
	}
	mw.Close()
	return mw.FormDataContentType(), buf.Bytes()
}

// TestMultipartSubmissionWithAttachments: the job runs a script that
// came as an attachment, in its directory; bad attachment names are
// refused and leave nothing behind.
func TestMultipartSubmissionWithAttachments(t *testing.T) {
	srv := platformtest.Start(t, platformtest.Options{Now: platformtest.Anchored(testNow)})
	tok := srv.Token("genie:write")
	for path, body := range map[string]string{
		"/api/v3/clusters": `{"id": "presto-1", "name": "presto", "user": "ops", "version": "0.2", "tags": ["type:presto"]}`,
		"/api/v3/commands": `{"id": "presto-cli", "name": "presto-cli", "user": "ops", "version": "0.2", "tags": ["type:presto-cli"],
			"executable": "/bin/sh", "clusterCriteria": [{"tags": ["type:presto"]}]}`,
	} {
		if r := srv.DoWith("POST", path, tok, "application/json", body); r.Status != 201 {
			t.Fatalf("POST %s: %d %s", path, r.Status, r.Body)
		}
	}
	request := map[string]any{"clusterCriterias": []map[string]any{{"tags": []string{"type:presto"}}}, "commandArgs": "script.sh daily",
		"commandCriteria": []string{"type:presto-cli"}, "description": "a pygenie job", "disableLogArchival": true, "id": "pg-1",
		"name": "ana.PrestoJob.Query.1765000000000", "tags": []string{"pygenie"}, "user": "ana", "version": "3"}
	ct, body := multipartJob(t, request, map[string]string{"script.sh": "echo \"from the attachment: $1\"; cat query.sql\n",
		"query.sql": "select 1\n"})
	if r := srv.DoWith("POST", "/api/v3/jobs", tok, ct, body); r.Status != 202 {
		t.Fatalf("multipart submit: %d %s", r.Status, r.Body)
	}
	if j := waitJob(t, srv, tok, "pg-1", ended); j.Status != "SUCCEEDED" {
		t.Fatalf("job: %+v", j)
	}
	if out := srv.Do("GET", "/api/v3/jobs/pg-1/output/stdout", tok, nil); string(out.Body) != "from the attachment: daily\nselect 1\n" {
		t.Errorf("stdout: %q", out.Body)
	}
	var j struct {
		Links map[string]struct{ Href string } `json:"_links"`
	}
	srv.Do("GET", "/api/v3/jobs/pg-1", tok, nil).JSON(t, &j)
	if want := srv.URL + "/api/v3/jobs/pg-1"; j.Links["self"].Href != want {
		t.Errorf("self link %q, want %q (absolute, as Genie's)", j.Links["self"].Href, want)
	}

	for name, want := range map[string]string{`a\b`: "plain file name", "stdout": "the job's own", ".hidden": "plain file name"} {
		request["id"] = "pg-bad"
		ct, body := multipartJob(t, request, map[string]string{name: "x"})
		r := srv.DoWith("POST", "/api/v3/jobs", tok, ct, body)
		if r.Status != 400 || !strings.Contains(string(r.Body), want) {
			t.Errorf("attachment %q: %d %s", name, r.Status, r.Body)
		}
	}
	if r := srv.Do("GET", "/api/v3/jobs/pg-bad", tok, nil); r.Status != 404 {
		t.Errorf("a refused submission left a job: %d", r.Status)
	}
	ents, _ := os.ReadDir(filepath.Join(srv.DataDir, "genie", "jobs"))
	for _, e := range ents {
		if e.Name() != "pg-1" {
			t.Errorf("a refused submission left %s in the jobs directory", e.Name())
		}
	}
	// An id already used is refused before its directory is touched.
	request["id"] = "pg-1"
	ct, body = multipartJob(t, request, map[string]string{"other.sh": "exit 1"})
	if r := srv.DoWith("POST", "/api/v3/jobs", tok, ct, body); r.Status != 409 {
		t.Errorf("a second pg-1: %d %s", r.Status, r.Body)
	}
	if out := srv.Do("GET", "/api/v3/jobs/pg-1/output/stdout", tok, nil); string(out.Body) != "from the attachment: daily\nselect 1\n" {
		t.Errorf("the first job's output changed: %q", out.Body)
	}
}
