package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gaffer-sre/gaffer/bench/internal/benchserver"
	"github.com/gaffer-sre/gaffer/telemetry/prom"
)

// target is a running Gaffer or Prometheus.
type target struct {
	kind    string
	dir     string
	gaffer  *benchserver.Server // kind "gaffer"
	prom    *exec.Cmd           // kind "prometheus"
	dataDir string              // the TSDB's directory
	// client writes and queries over the remote-write and Prometheus
	// query APIs that both systems serve: one client for both, so the
	// comparison measures the servers, and the remote-write encoding and
	// sending are part of what the ingest phase measures.
	client *prom.Client
}

func freeAddr() string {
	addr, err := benchserver.FreeAddr()
	if err != nil {
		panic(err)
	}
	return addr
}

// startTarget runs `gaffer serve` or prometheus on a loopback port with a
// temporary data directory; extra are more flags.
func startTarget(kind, gafferBin, promBin string, extra ...string) (*target, error) {
	dir, err := os.MkdirTemp("", "bench-prom-"+kind+"-")
	if err != nil {
		return nil, err
	}
	t := &target{kind: kind, dir: dir}
	logf, err := os.Create(filepath.Join(dir, "log"))
	if err != nil {
		return nil, err
	}
	if kind == "gaffer" {
		t.dataDir = filepath.Join(dir, "tsdb")
		t.gaffer, err = benchserver.Start(benchserver.Config{Bin: gafferBin, DataDir: dir, Out: logf,
			Args: append([]string{"--nats-listen", "127.0.0.1:0"}, extra...)})
		if err != nil {
			b, _ := os.ReadFile(filepath.Join(dir, "log"))
			os.RemoveAll(dir)
			return nil, fmt.Errorf("%w; log:\n%s", err, b)
		}
		t.client = &prom.Client{URL: t.gaffer.URL, Token: t.gaffer.Client.Token, HTTP: promHTTP()}
		return t, nil
	}
	if err := t.startPrometheus(promBin, logf); err != nil {
		t.stop()
		return nil, err
	}
	return t, nil
}

// promHTTP is the HTTP client of the remote-write and query calls.
func promHTTP() *http.Client {
	return &http.Client{Timeout: 5 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
}

// startPrometheus runs prometheus with remote write on and waits for its
// /-/ready (a peer's endpoint, so a plain HTTP GET, not Gaffer's client).
func (t *target) startPrometheus(bin string, logf *os.File) error {
	addr := freeAddr()
	cfg := filepath.Join(t.dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte("global:\n  scrape_interval: 1h\n"), 0o600); err != nil {
		return err
	}
	t.dataDir = filepath.Join(t.dir, "data")
	t.prom = exec.Command(bin, "--config.file="+cfg, "--storage.tsdb.path="+t.dataDir, "--web.listen-address="+addr,
		"--web.enable-remote-write-receiver", "--log.level=warn")
	t.prom.Stdout, t.prom.Stderr = logf, logf
	if err := t.prom.Start(); err != nil {
		return fmt.Errorf("start prometheus: %w", err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(filepath.Join(t.dir, "log"))
			return fmt.Errorf("prometheus not ready after 60s:\n%s", b)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.client = &prom.Client{URL: "http://" + addr, HTTP: promHTTP()}
	return nil
}

// stopGracefully stops the server as an operator would (SIGTERM, then
// waiting for it to exit) and returns the size of its TSDB directory
// afterwards, write-ahead log included, and how long the stop took.
func (t *target) stopGracefully() (float64, time.Duration, error) {
	start := time.Now()
	if t.gaffer != nil {
		t.gaffer.Stop() // SIGTERM; killed only after 30 s
	} else if t.prom != nil && t.prom.Process != nil {
		t.prom.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { t.prom.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(2 * time.Minute):
			t.prom.Process.Kill()
			<-done
			return 0, 0, errors.New("prometheus did not stop within 2 minutes of SIGTERM")
		}
	}
	took := time.Since(start)
	if took >= 30*time.Second && t.gaffer != nil {
		return 0, took, errors.New("gaffer did not stop within 30 s of SIGTERM")
	}
	var size float64
	err := filepath.WalkDir(t.dataDir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			fi, err := d.Info()
			if err != nil {
				return err
			}
			size += float64(fi.Size())
		}
		return nil
	})
	if err != nil {
		return 0, took, fmt.Errorf("size of %s: %w", t.dataDir, err)
	}
	return size, took, nil
}

func (t *target) stop() {
	t.gaffer.Stop()
	if t.prom != nil && t.prom.Process != nil {
		t.prom.Process.Kill()
		t.prom.Wait()
	}
	os.RemoveAll(t.dir)
}

// pid is the server process's ID.
func (t *target) pid() int {
	if t.gaffer != nil {
		return t.gaffer.Pid()
	}
	return t.prom.Process.Pid
}

// rss reads the process's resident set size in bytes.
func (t *target) rss() float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", t.pid()))
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

// saveProfile saves Gaffer's /debug/pprof/<which> as dir/name.
func (t *target) saveProfile(ctx context.Context, which, dir, name string) error {
	req, err := http.NewRequestWithContext(ctx, "GET", t.gaffer.URL+"/debug/pprof/"+which, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+t.gaffer.Client.Token)
	resp, err := promHTTP().Do(req)
	if err != nil {
		return fmt.Errorf("profile %s: %w", which, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("profile %s: read: %w", which, err)
	}
	if resp.StatusCode != 200 {
		return fmt.Errorf("profile %s: status %d: %.200s", which, resp.StatusCode, b)
	}
	return os.WriteFile(filepath.Join(dir, name), b, 0o644)
}

// gafferStats reads GET /api/v1/metrics/stats.
func (t *target) gafferStats(ctx context.Context) (map[string]map[string]any, error) {
	var out map[string]map[string]any
	return out, t.gaffer.Client.Do(ctx, "GET", "/api/v1/metrics/stats?top=1", nil, &out)
}
