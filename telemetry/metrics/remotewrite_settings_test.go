package metrics

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRemoteWriteEndpoints(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "rw.yaml")
	os.WriteFile(cfg, []byte(`
- url: https://mimir.example/api/v1/push
  headers: {X-Scope-OrgID: team-a}
  bearer_token_file: /etc/gaffer/mimir-token
- url: http://vm.example:8428/api/v1/write
`), 0o600)
	set := DefaultSettings().RemoteWrite
	set.URLs = []string{"https://mimir.example/api/v1/push", "http://prom.example:9090/api/v1/write"}
	set.ConfigFile = cfg
	eps, err := set.endpoints()
	if err != nil {
		t.Fatal(err)
	}
	if len(eps) != 3 || eps[0].Headers["X-Scope-OrgID"] != "team-a" || eps[0].BearerTokenFile != "/etc/gaffer/mimir-token" ||
		eps[1].URL != "http://prom.example:9090/api/v1/write" || eps[2].URL != "http://vm.example:8428/api/v1/write" {
		t.Fatalf("endpoints = %+v; want the flag's two URLs (the first with the file's headers) then the file's other one", eps)
	}

	for name, tc := range map[string]struct {
		mod  func(*RemoteWriteSettings)
		want string
	}{
		"scheme":    {func(r *RemoteWriteSettings) { r.URLs = []string{"ftp://x/push"} }, "metrics-remote-write"},
		"no host":   {func(r *RemoteWriteSettings) { r.URLs = []string{"http:///push"} }, "metrics-remote-write"},
		"twice":     {func(r *RemoteWriteSettings) { r.URLs = []string{"http://x/a", "http://x/a"} }, "twice"},
		"shards":    {func(r *RemoteWriteSettings) { r.URLs = []string{"http://x/a"}; r.Shards = 0 }, "shards"},
		"max bytes": {func(r *RemoteWriteSettings) { r.URLs = []string{"http://x/a"}; r.MaxBytes = 1000 }, "metrics-remote-write-max-bytes"},
		"no file":   {func(r *RemoteWriteSettings) { r.ConfigFile = "/nonexistent/rw.yaml" }, "metrics-remote-write-config"},
	} {
		set := DefaultSettings().RemoteWrite
		tc.mod(&set)
		if _, err := set.endpoints(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one naming %q", name, err, tc.want)
		}
	}
}

func TestParseRemoteWriteConfigErrors(t *testing.T) {
	for in, want := range map[string]string{
		"- url: http://x/a\n  header: {a: b}\n": "header",
		"- url: x\n":                            "entry 1: url",
		"url: http://x/a\n":                     "want a list",
		"- url: http://x/a\n  headers: {Content-Encoding: gzip}\n":                    "set by remote write",
		"- url: http://x/a\n  headers: {\"bad name\": v}\n":                           "valid header",
		"- url: http://x/a\n  headers: {Authorization: x}\n  bearer_token_file: /t\n": "both",
	} {
		if _, err := parseRemoteWriteConfig([]byte(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseRemoteWriteConfig(%q): error %v, want one containing %q", in, err, want)
		}
	}
	if eps, err := parseRemoteWriteConfig(nil); err != nil || len(eps) != 0 {
		t.Errorf("empty file: %v, %v; want no endpoint and no error", eps, err)
	}
}

// FuzzParseRemoteWriteConfig: whatever parses names only http(s) URLs
// with a host and header names without separators.
func FuzzParseRemoteWriteConfig(f *testing.F) {
	f.Add([]byte("- url: https://mimir.example/api/v1/push\n  headers: {X-Scope-OrgID: a}\n"))
	f.Add([]byte("- {url: 'http://[::1]:9/x'}\n"))
	f.Add([]byte("[]"))
	f.Fuzz(func(t *testing.T, b []byte) {
		eps, err := parseRemoteWriteConfig(b)
		if err != nil {
			return
		}
		for _, e := range eps {
			if checkRemoteWriteURL(e.URL) != nil {
				t.Fatalf("accepted URL %q", e.URL)
			}
			for k := range e.Headers {
				if k == "" || strings.ContainsAny(k, " :\r\n") {
					t.Fatalf("accepted header name %q", k)
				}
			}
		}
	})
}
