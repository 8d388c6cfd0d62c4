package platformtest

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
)

// Prometheus3Bin returns a Prometheus 3 binary built from the module
// version Gaffer embeds: $GAFFER_PROMETHEUS3, else the one .ci/run builds
// into $GAFFER_CI_CACHE (default ~/.cache/gaffer-ci). Without one the test
// is skipped, saying how to build it.
func Prometheus3Bin(t testing.TB) string {
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
		line, _, _ := strings.Cut(string(out), "\n")
		t.Skipf("skipped: %s is not Prometheus 3: %s", bin, line)
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
	if err != nil || bi.Main.Path != "github.com/prometheus/prometheus" || !strings.HasPrefix(bi.Main.Version, "v0.") {
		return false
	}
	minor, _, _ := strings.Cut(strings.TrimPrefix(bi.Main.Version, "v0."), ".")
	n, err := strconv.Atoi(minor)
	return err == nil && n >= 300
}

// Prometheus3 is a Prometheus 3 process with the remote-write and OTLP
// receivers, which a test may stop and start again on the same address
// and data directory.
type Prometheus3 struct {
	// Addr is its host:port on loopback; URL is http://Addr.
	Addr, URL string
	t         testing.TB
	args      []string
	bin       string
	cmd       *exec.Cmd
	log       *os.File
}

// StartPrometheus3 runs Prometheus 3 (see Prometheus3Bin) until the test
// ends, and waits until it is ready.
func StartPrometheus3(t testing.TB) *Prometheus3 {
	t.Helper()
	p := &Prometheus3{t: t, bin: Prometheus3Bin(t), Addr: FreeAddr(t)}
	p.URL = "http://" + p.Addr
	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte("global:\n  scrape_interval: 1h\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p.args = []string{"--config.file=" + cfg, "--storage.tsdb.path=" + filepath.Join(dir, "data"),
		"--web.listen-address=" + p.Addr, "--web.enable-remote-write-receiver", "--web.enable-otlp-receiver", "--log.level=warn"}
	var err error
	if p.log, err = os.Create(filepath.Join(dir, "log")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if p.cmd != nil {
			p.cmd.Process.Kill()
			p.cmd.Wait()
		}
		p.log.Close()
	})
	p.Start()
	return p
}

// Start runs the process and waits for /-/ready.
func (p *Prometheus3) Start() {
	p.t.Helper()
	p.cmd = exec.Command(p.bin, p.args...)
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		p.t.Fatalf("start prometheus: %v", err)
	}
	if !WaitFor(60*time.Second, func() bool {
		resp, err := http.Get(p.URL + "/-/ready")
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

// Stop ends the process gracefully (SIGTERM), as an operator would.
func (p *Prometheus3) Stop() {
	p.t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.cmd.Wait(); err != nil {
		p.t.Logf("prometheus exited: %v", err)
	}
	p.cmd = nil
}
