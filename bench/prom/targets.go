package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gaffer-sre/gaffer/telemetry/prom"
)

// target is a running Gaffer or Prometheus.
type target struct {
	kind    string
	dir     string
	cmd     *exec.Cmd
	client  *prom.Client
	dataDir string // the TSDB's directory
}

func buildGaffer() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(out)))
	dir, err := os.MkdirTemp("", "bench-prom-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "gaffer")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/gaffer")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/gaffer: %v\n%s", err, b)
	}
	return bin, nil
}

func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startTarget runs `gaffer serve` or prometheus on a loopback port with a
// temporary data directory; extra are more flags.
func startTarget(kind, gafferBin, promBin string, extra ...string) (*target, error) {
	dir, err := os.MkdirTemp("", "bench-prom-"+kind+"-")
	if err != nil {
		return nil, err
	}
	addr := freeAddr()
	t := &target{kind: kind, dir: dir}
	var ready string
	switch kind {
	case "gaffer":
		t.cmd = exec.Command(gafferBin, append([]string{"serve", "--listen", addr, "--data-dir", dir, "--nats-listen", "127.0.0.1:0"}, extra...)...)
		t.dataDir = filepath.Join(dir, "tsdb")
		ready = "/readyz"
	default:
		cfg := filepath.Join(dir, "prometheus.yml")
		if err := os.WriteFile(cfg, []byte("global:\n  scrape_interval: 1h\n"), 0o600); err != nil {
			return nil, err
		}
		t.dataDir = filepath.Join(dir, "data")
		t.cmd = exec.Command(promBin, "--config.file="+cfg, "--storage.tsdb.path="+t.dataDir, "--web.listen-address="+addr,
			"--web.enable-remote-write-receiver", "--log.level=warn")
		ready = "/-/ready"
	}
	logf, err := os.Create(filepath.Join(dir, "log"))
	if err != nil {
		return nil, err
	}
	t.cmd.Stdout, t.cmd.Stderr = logf, logf
	if err := t.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", kind, err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + ready)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.stop()
			b, _ := os.ReadFile(filepath.Join(dir, "log"))
			return nil, fmt.Errorf("%s not ready after 60s:\n%s", kind, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.client = &prom.Client{URL: "http://" + addr, HTTP: &http.Client{Timeout: 5 * time.Minute,
		Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	if kind == "gaffer" {
		tok, err := os.ReadFile(filepath.Join(dir, "admin.token"))
		if err != nil {
			return nil, err
		}
		t.client.Token = strings.TrimSpace(string(tok))
	}
	return t, nil
}

func (t *target) stop() {
	if t.cmd.Process != nil {
		t.cmd.Process.Kill()
		t.cmd.Wait()
	}
	os.RemoveAll(t.dir)
}

// rss reads the process's resident set size in bytes.
func (t *target) rss() float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", t.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			f := strings.Fields(line)
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb * 1024
		}
	}
	return 0
}

// blockStats sums the persisted raw blocks: samples and bytes, and the
// time they cover. Both stores keep a meta.json per block directory.
func (t *target) blockStats() (samples, bytes float64, span time.Duration, err error) {
	root := t.dataDir
	if t.kind == "gaffer" {
		root = filepath.Join(root, "blocks")
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		return 0, 0, 0, err
	}
	for _, e := range entries {
		meta, err := os.ReadFile(filepath.Join(root, e.Name(), "meta.json"))
		if err != nil {
			continue
		}
		var m struct {
			MinTime, MaxTime int64
			Resolution       int64 `json:"resolution"`
			Samples          int64 `json:"samples"`
			Stats            struct {
				NumSamples int64 `json:"numSamples"`
			} `json:"stats"`
		}
		if json.Unmarshal(meta, &m) != nil || m.Resolution != 0 {
			continue
		}
		n := m.Samples + m.Stats.NumSamples
		if n == 0 {
			continue
		}
		samples += float64(n)
		span += time.Duration(m.MaxTime-m.MinTime) * time.Millisecond
		filepath.WalkDir(filepath.Join(root, e.Name()), func(_ string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				if fi, err := d.Info(); err == nil {
					bytes += float64(fi.Size())
				}
			}
			return nil
		})
	}
	if samples == 0 {
		return 0, 0, 0, errors.New("no raw blocks yet")
	}
	return samples, bytes, span, nil
}

// gafferStats reads GET /api/v1/metrics/stats.
func (t *target) gafferStats(ctx context.Context) (map[string]map[string]any, error) {
	req, _ := http.NewRequestWithContext(ctx, "GET", t.client.URL+"/api/v1/metrics/stats?top=1", nil)
	req.Header.Set("Authorization", "Bearer "+t.client.Token)
	resp, err := t.client.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out map[string]map[string]any
	return out, json.NewDecoder(resp.Body).Decode(&out)
}
