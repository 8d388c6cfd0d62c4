package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/golang/snappy"

	"github.com/gaffer-sre/gaffer/internal/platform/console"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/telemetry/prom"
	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

// TestQueryAndWriteBudgetsOnBinary is issue #15 items 3 and 6 as they
// were found, against a running `gaffer serve`: four
// sum_over_time(vector(1)[10y:1s]) queries at once (one took a server
// past 6 GB) are refused naming the limit and leave the server up and
// small; a request decoding past the size limit and one creating 20,000
// series are refused.
func TestQueryAndWriteBudgetsOnBinary(t *testing.T) {
	bin := platformtest.BuildGaffer(t)
	dir := t.TempDir()
	srv := platformtest.StartServe(t, bin, dir, "--roles", "metrics")
	b, err := os.ReadFile(filepath.Join(dir, "admin.token"))
	if err != nil {
		t.Fatal(err)
	}
	admin := strings.TrimSpace(string(b))
	var reader, writer console.CreateTokenResponse
	if code := call(t, "POST", srv.URL+"/api/v1/tokens", admin, console.CreateTokenRequest{Name: "reader",
		Scopes: []string{"metrics:read"}}, &reader); code != 201 {
		t.Fatalf("create token: %d", code)
	}
	if code := call(t, "POST", srv.URL+"/api/v1/tokens", admin, console.CreateTokenRequest{Name: "writer",
		Scopes: []string{"metrics:write"}}, &writer); code != 201 {
		t.Fatalf("create token: %d", code)
	}
	send := func(method, path, token, ct string, body []byte) (int, string) {
		req, _ := http.NewRequest(method, srv.URL+path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(out)
	}
	form := url.Values{"query": {"sum_over_time(vector(1)[10y:1s])"}}.Encode()
	var wg sync.WaitGroup
	answers := make([]string, 4)
	for i := range answers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, body := send("POST", "/api/v1/query", reader.Secret, "application/x-www-form-urlencoded", []byte(form))
			answers[i] = fmt.Sprint(code, " ", body)
		}()
	}
	wg.Wait()
	for _, a := range answers {
		if !strings.HasPrefix(a, "400 ") || !strings.Contains(a, "would evaluate 315360000 steps") ||
			!strings.Contains(a, "--metrics-query-max-subquery-steps") {
			t.Fatalf("a [10y:1s] query: %s", a)
		}
	}

	// 40 MB of zeros: a small body that decodes past 32 MiB.
	code, body := send("POST", "/api/v1/write", writer.Secret, "application/x-protobuf", snappy.Encode(nil, make([]byte, 40<<20)))
	if code != 413 || !strings.Contains(body, "--metrics-write-max-request-bytes") {
		t.Fatalf("a body decoding to 40 MB: %d %s", code, body)
	}
	series := make([]prom.TimeSeries, 20_000)
	for i := range series {
		series[i] = prom.TimeSeries{Labels: tsdb.FromStrings("__name__", "fanout", "i", strconv.Itoa(i)),
			Samples: []prom.Sample{{Value: 1, Timestamp: 1_000}}}
	}
	code, body = send("POST", "/api/v1/write", writer.Secret, "application/x-protobuf",
		snappy.Encode(nil, prom.AppendWriteRequest(nil, series)))
	if code != 429 || !strings.Contains(body, "more than 10000 new series (limit: --metrics-write-max-new-series-per-request)") {
		t.Fatalf("20,000 new series in one request: %d %s", code, body)
	}

	if code, _ := send("GET", "/readyz", "", "", nil); code != 200 {
		t.Fatalf("server after the queries: %d", code)
	}
	if runtime.GOOS == "linux" {
		status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", srv.Cmd.Process.Pid))
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(string(status), "\n") {
			if f := strings.Fields(l); len(f) == 3 && f[0] == "VmHWM:" {
				kb, _ := strconv.Atoi(f[1])
				t.Logf("server peak RSS %d MB", kb>>10)
				if kb > 1500<<10 {
					t.Fatalf("server peak RSS %d MB, want under 1.5 GB", kb>>10)
				}
			}
		}
	}
}
