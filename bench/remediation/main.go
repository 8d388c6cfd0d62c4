// Command remediation-bench measures runbooks end to end against a real
// `gaffer serve`: CloudEvents are POSTed to /api/v1/events one at a time; a
// rule's runbook action starts a runbook of ten no-op steps; the delay from
// each POST to the first step's start (as the execution records it) and to
// the execution's end is reported.
//
//	go run ./bench/remediation [-events 200]
//	go run ./bench/remediation -server http://127.0.0.1:7070 -token-file gaffer-data/admin.token
//
// Without -server it builds ./cmd/gaffer and runs `gaffer serve` on a
// fresh data directory (SQLite and the embedded NATS, default settings).
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

func main() {
	server := flag.String("server", "", "target server (default: build and start one)")
	tokenFile := flag.String("token-file", "", "admin token file of -server")
	events := flag.Int("events", 200, "events to send, one at a time")
	flag.Parse()
	if err := run(*server, *tokenFile, *events); err != nil {
		fmt.Fprintln(os.Stderr, "remediation-bench:", err)
		os.Exit(1)
	}
}

type client struct {
	url, token string
}

func (c *client) do(method, path, contentType string, body []byte, out any) error {
	req, _ := http.NewRequest(method, c.url+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", contentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

func run(server, tokenFile string, n int) error {
	if server == "" {
		stop, url, tf, err := startServer()
		if err != nil {
			return err
		}
		defer stop()
		server, tokenFile = url, tf
	}
	tok, err := os.ReadFile(tokenFile)
	if err != nil {
		return err
	}
	c := &client{url: strings.TrimRight(server, "/"), token: strings.TrimSpace(string(tok))}
	var src strings.Builder
	src.WriteString("name: bench-chain\nsteps:\n")
	for i := 0; i < 10; i++ {
		fmt.Fprintf(&src, "  - {name: s%d, type: noop}\n", i)
	}
	if err := c.do("POST", "/api/v1/remediation/runbooks", "application/yaml", []byte(src.String()), nil); err != nil {
		return err
	}
	rule, _ := json.Marshal(map[string]any{"name": fmt.Sprintf("bench %d", time.Now().UnixNano()), "condition": `type == "bench.remediation"`,
		"actions": []map[string]any{{"type": "runbook", "runbook": "bench-chain"}}})
	if err := c.do("POST", "/api/v1/events/rules", "application/json", rule, nil); err != nil {
		return err
	}
	var first, total, created []time.Duration
	for i := 0; i < n; i++ {
		t0 := time.Now()
		ev, _ := json.Marshal(map[string]any{"specversion": "1.0", "id": fmt.Sprintf("b-%d-%d", t0.UnixNano(), i),
			"source": "/bench", "type": "bench.remediation"})
		if err := c.do("POST", "/api/v1/events", "application/cloudevents+json", ev, nil); err != nil {
			return err
		}
		cr, f, t, err := c.await(t0)
		if err != nil {
			return err
		}
		created, first, total = append(created, cr), append(first, f), append(total, t)
	}
	fmt.Printf("%d events, one at a time; runbook of 10 no-op steps\n", n)
	fmt.Printf("event POSTed -> execution created:  p50 %s  p99 %s  max %s\n", q(created, .5), q(created, .99), q(created, 1))
	fmt.Printf("event POSTed -> first step started: p50 %s  p99 %s  max %s\n", q(first, .5), q(first, .99), q(first, 1))
	fmt.Printf("event POSTed -> execution ended:    p50 %s  p99 %s  max %s\n", q(total, .5), q(total, .99), q(total, 1))
	return nil
}

// await waits for the execution started after t0 to end and returns the
// delays to its creation, its first step's start and its end (millisecond
// clock).
func (c *client) await(t0 time.Time) (time.Duration, time.Duration, time.Duration, error) {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var page struct {
			Items []struct {
				ID         string     `json:"id"`
				CreatedAt  time.Time  `json:"created_at"`
				FinishedAt *time.Time `json:"finished_at"`
			} `json:"items"`
		}
		if err := c.do("GET", "/api/v1/remediation/executions?runbook=bench-chain&limit=1", "", nil, &page); err != nil {
			return 0, 0, 0, err
		}
		if len(page.Items) == 1 && !page.Items[0].CreatedAt.Before(t0.Truncate(time.Millisecond)) && page.Items[0].FinishedAt != nil {
			var ex struct {
				Steps []struct {
					StartedAt *time.Time `json:"started_at"`
				} `json:"steps"`
			}
			if err := c.do("GET", "/api/v1/remediation/executions/"+page.Items[0].ID, "", nil, &ex); err != nil {
				return 0, 0, 0, err
			}
			if len(ex.Steps) == 0 || ex.Steps[0].StartedAt == nil {
				return 0, 0, 0, fmt.Errorf("execution %s has no started first step", page.Items[0].ID)
			}
			it := page.Items[0]
			return it.CreatedAt.Sub(t0), ex.Steps[0].StartedAt.Sub(t0), it.FinishedAt.Sub(t0), nil
		}
		time.Sleep(2 * time.Millisecond)
	}
	return 0, 0, 0, fmt.Errorf("no execution ended within 30s")
}

func q(ds []time.Duration, p float64) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[min(len(s)-1, int(p*float64(len(s))))].Round(100 * time.Microsecond)
}

func startServer() (func(), string, string, error) {
	dir, err := os.MkdirTemp("", "remediation-bench-")
	if err != nil {
		return nil, "", "", err
	}
	bin := filepath.Join(dir, "gaffer")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/gaffer").CombinedOutput(); err != nil {
		return nil, "", "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin, "serve", "--listen", addr, "--data-dir", filepath.Join(dir, "data"), "--nats-listen", "127.0.0.1:0")
	if err := cmd.Start(); err != nil {
		return nil, "", "", err
	}
	stop := func() { cmd.Process.Kill(); cmd.Wait(); os.RemoveAll(dir) }
	url := "http://" + addr
	for i := 0; i < 600; i++ {
		if resp, err := http.Get(url + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return stop, url, filepath.Join(dir, "data", "admin.token"), nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	return nil, "", "", fmt.Errorf("gaffer serve not ready")
}
