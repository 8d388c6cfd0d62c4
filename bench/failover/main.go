// Command failover-bench runs failover exercises against a real `gaffer
// serve` and reports, for each fleet size with and without dark
// capacity, the simulated evacuation time, the planning time and the
// control plane's wall time, and the latency of API calls made while the
// executions run.
//
//	go run ./bench/failover [-seeds 3] [-sizes 500,1000]
//	go run ./bench/failover -server http://127.0.0.1:7070 -token-file gaffer-data/admin.token
//
// Without -server it builds ./cmd/gaffer and runs `gaffer serve --roles
// failover` on a fresh data directory (SQLite and the embedded NATS,
// default settings).
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
	"strconv"
	"strings"
	"sync"
	"time"
)

func main() {
	server := flag.String("server", "", "target server (default: build and start one)")
	tokenFile := flag.String("token-file", "", "admin token file of -server")
	seeds := flag.Int("seeds", 3, "exercises per configuration, seeds 1 to n")
	sizes := flag.String("sizes", "500,1000", "clusters per region, comma-separated")
	regions := flag.Int("regions", 3, "regions")
	flag.Parse()
	if err := run(*server, *tokenFile, *seeds, *sizes, *regions); err != nil {
		fmt.Fprintln(os.Stderr, "failover-bench:", err)
		os.Exit(1)
	}
}

type client struct{ url, token string }

func (c *client) do(method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.url+path, rd)
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
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

type exercise struct {
	ID          string `json:"id"`
	ExecutionID string `json:"execution_id"`
	Report      *struct {
		Evacuated           bool    `json:"evacuated"`
		SimulatedSeconds    float64 `json:"simulated_seconds"`
		PlanSeconds         float64 `json:"plan_seconds"`
		ControlPlaneSeconds float64 `json:"control_plane_seconds"`
		Goal                struct {
			Met bool `json:"met"`
		} `json:"goal"`
		Fleet struct {
			Instances int `json:"instances"`
			Dark      int `json:"dark_instances"`
		} `json:"fleet"`
	} `json:"report"`
}

func run(server, tokenFile string, seeds int, sizes string, regions int) error {
	c := &client{url: server}
	if server == "" {
		stop, url, token, err := startServer()
		if err != nil {
			return err
		}
		defer stop()
		c.url, c.token = url, token
	} else {
		b, err := os.ReadFile(tokenFile)
		if err != nil {
			return err
		}
		c.token = strings.TrimSpace(string(b))
	}
	idle := probe(c, 300, nil)
	fmt.Printf("API idle: GET execution list p50 %v, p99 %v (%d calls)\n\n", idle.pct(50), idle.pct(99), len(idle))
	fmt.Println("| regions × clusters | dark | evacuated | simulated (min) | planning (s) | control plane (s) | goal met | API p50 / p99 / max during (calls) |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	for _, s := range strings.Split(sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("sizes: %w", err)
		}
		for _, dark := range []bool{true, false} {
			for seed := 1; seed <= seeds; seed++ {
				var x exercise
				done := make(chan struct{})
				var lat latencies
				var wg sync.WaitGroup
				wg.Add(1)
				go func() { defer wg.Done(); lat = probe(c, 0, done) }()
				err := c.do("POST", "/api/v1/failover/exercises", map[string]any{"regions": regions, "clusters": n, "dark": dark,
					"seed": seed, "evacuate": "us-east-1", "provider": "simulator"}, &x)
				for err == nil && x.Report == nil {
					time.Sleep(20 * time.Millisecond)
					err = c.do("GET", "/api/v1/failover/exercises/"+x.ID, nil, &x)
				}
				close(done)
				wg.Wait()
				if err != nil {
					return err
				}
				r := x.Report
				fmt.Printf("| %d × %d (seed %d) | %v | %v | %.2f | %.3f | %.2f | %v | %v / %v / %v (%d) |\n", regions, n, seed, dark,
					r.Evacuated, r.SimulatedSeconds/60, r.PlanSeconds, r.ControlPlaneSeconds, r.Goal.Met,
					lat.pct(50), lat.pct(99), lat.pct(100), len(lat))
			}
		}
	}
	return nil
}

type latencies []time.Duration

func (l latencies) pct(p float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	s := append(latencies(nil), l...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(float64(len(s)-1) * p / 100)
	return s[i].Round(100 * time.Microsecond)
}

// probe lists executions n times, or until done closes.
func probe(c *client, n int, done chan struct{}) latencies {
	var out latencies
	for i := 0; n == 0 || i < n; i++ {
		if done != nil {
			select {
			case <-done:
				return out
			default:
			}
		}
		start := time.Now()
		if err := c.do("GET", "/api/v1/failover/executions?limit=20", nil, nil); err != nil {
			fmt.Fprintln(os.Stderr, "probe:", err)
			return out
		}
		out = append(out, time.Since(start))
		time.Sleep(5 * time.Millisecond)
	}
	return out
}

func startServer() (stop func(), url, token string, err error) {
	dir, err := os.MkdirTemp("", "failover-bench-")
	if err != nil {
		return nil, "", "", err
	}
	bin := filepath.Join(dir, "gaffer")
	build := exec.Command("go", "build", "-o", bin, "./cmd/gaffer")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return nil, "", "", fmt.Errorf("build gaffer: %w", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", "", err
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin, "serve", "--listen", addr, "--data-dir", filepath.Join(dir, "data"), "--roles", "failover",
		"--nats-listen", "127.0.0.1:0")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, "", "", err
	}
	stop = func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
		os.RemoveAll(dir)
	}
	url = "http://" + addr
	for deadline := time.Now().Add(60 * time.Second); ; {
		if resp, err := http.Get(url + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			stop()
			return nil, "", "", fmt.Errorf("gaffer serve not ready")
		}
		time.Sleep(50 * time.Millisecond)
	}
	b, err := os.ReadFile(filepath.Join(dir, "data", "admin.token"))
	if err != nil {
		stop()
		return nil, "", "", err
	}
	return stop, url, strings.TrimSpace(string(b)), nil
}
