package metrics_test

import (
	"debug/buildinfo"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/telemetry/prom"
)

// prometheus3Bin returns a Prometheus 3 binary built from the module
// version Gaffer embeds: $GAFFER_PROMETHEUS3, else the one .ci/run builds
// into $GAFFER_CI_CACHE (default ~/.cache/gaffer-ci). Without one the test
// is skipped, saying how to build it.
func prometheus3Bin(t *testing.T) string {
	t.Helper()
	version := "v0.316.0"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/prometheus/prometheus" {
				version = d.Version
			}
		}
	}
	bin := os.Getenv("GAFFER_PROMETHEUS3")
	if bin == "" {
		cache := os.Getenv("GAFFER_CI_CACHE")
		if cache == "" {
			home, _ := os.UserHomeDir()
			cache = filepath.Join(home, ".cache", "gaffer-ci")
		}
		bin = filepath.Join(cache, "prometheus-"+version, "prometheus")
	}
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil {
		t.Skipf("skipped: no Prometheus 3 at %s (build it: GOBIN=%s go install github.com/prometheus/prometheus/cmd/prometheus@%s, "+
			"or set GAFFER_PROMETHEUS3; .ci/run builds it)", bin, filepath.Dir(bin), version)
	}
	if !isPrometheus3(bin, string(out)) {
		t.Skipf("skipped: %s is not Prometheus 3: %s", bin, firstLine(string(out)))
	}
	return bin
}

// isPrometheus3 tells a Prometheus 3 binary by its --version (a release)
// or by its Go build information (built with go install, whose --version
// is blank): module versions v0.300.0 and later are Prometheus 3.
func isPrometheus3(bin, version string) bool {
	if strings.HasPrefix(version, "prometheus, version 3.") {
		return true
	}
	bi, err := buildinfo.ReadFile(bin)
	if err != nil || bi.Main.Path != "github.com/prometheus/prometheus" {
		return false
	}
	minor, _, _ := strings.Cut(strings.TrimPrefix(bi.Main.Version, "v0."), ".")
	n, err := strconv.Atoi(minor)
	return err == nil && strings.HasPrefix(bi.Main.Version, "v0.") && n >= 300
}

// prom3 is a Prometheus 3 process that a test may stop and start again on
// the same address and data directory.
type prom3 struct {
	t    *testing.T
	bin  string
	dir  string
	addr string
	args []string
	cmd  *exec.Cmd
	log  *os.File
}

// startPrometheus3 runs Prometheus 3 with the remote-write and OTLP
// receivers on a loopback port.
func startPrometheus3(t *testing.T) *prom3 {
	p := &prom3{t: t, bin: prometheus3Bin(t), dir: t.TempDir(), addr: platformtest.FreeAddr(t)}
	cfg := filepath.Join(p.dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte("global:\n  scrape_interval: 1h\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p.args = []string{"--config.file=" + cfg, "--storage.tsdb.path=" + filepath.Join(p.dir, "data"),
		"--web.listen-address=" + p.addr, "--web.enable-remote-write-receiver", "--web.enable-otlp-receiver", "--log.level=warn"}
	var err error
	if p.log, err = os.Create(filepath.Join(p.dir, "log")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if p.cmd != nil {
			p.cmd.Process.Kill()
			p.cmd.Wait()
		}
		p.log.Close()
	})
	p.start()
	return p
}

// start runs the process and waits for /-/ready.
func (p *prom3) start() {
	p.t.Helper()
	p.cmd = exec.Command(p.bin, p.args...)
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		p.t.Fatalf("start prometheus: %v", err)
	}
	if !platformtest.WaitFor(60*time.Second, func() bool {
		resp, err := http.Get("http://" + p.addr + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}) {
		b, _ := os.ReadFile(p.log.Name())
		p.t.Fatalf("prometheus not ready after 60s:\n%s", b)
	}
}

// stop ends the process gracefully (SIGTERM), as an operator would.
func (p *prom3) stop() {
	p.t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.cmd.Wait(); err != nil {
		p.t.Logf("prometheus exited: %v", err)
	}
	p.cmd = nil
}

// client queries the process's HTTP API.
func (p *prom3) client() *prom.Client { return &prom.Client{URL: "http://" + p.addr} }
