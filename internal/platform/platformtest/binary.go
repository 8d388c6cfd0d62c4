package platformtest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	buildPath string
	buildErr  error
)

// BuildGaffer compiles ./cmd/gaffer once per test process and returns the
// binary's path, for tests that run, signal and kill real processes.
func BuildGaffer(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "gaffer-bin-")
		if err != nil {
			buildErr = err
			return
		}
		root, err := moduleRoot()
		if err != nil {
			buildErr = err
			return
		}
		buildPath = filepath.Join(dir, "gaffer")
		cmd := exec.Command("go", "build", "-o", buildPath, "./cmd/gaffer")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/gaffer: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildPath
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("not inside the gaffer module")
	}
	return filepath.Dir(mod), nil
}

// Process is a gaffer subcommand running as a child process.
type Process struct {
	Cmd *exec.Cmd
	// URL is the HTTP base URL for `serve`.
	URL string
	mu  sync.Mutex
	log strings.Builder
}

// Log returns what the process wrote to stderr so far.
func (p *Process) Log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// FreeAddr returns a free loopback address.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// StartProcess runs `gaffer args...`; it is killed when the test ends if
// still running.
func StartProcess(t testing.TB, bin string, args ...string) *Process {
	t.Helper()
	p := &Process{Cmd: exec.Command(bin, args...)}
	stderr, err := p.Cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.Cmd.Stdout = io.Discard
	if err := p.Cmd.Start(); err != nil {
		t.Fatalf("start gaffer %v: %v", args, err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.mu.Lock()
			p.log.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		if p.Cmd.ProcessState == nil {
			p.Cmd.Process.Kill()
			p.Cmd.Wait()
		}
	})
	return p
}

// StartServe runs `gaffer serve` on a free port with dataDir and extra
// arguments, and waits until /readyz answers 200.
func StartServe(t testing.TB, bin, dataDir string, extra ...string) *Process {
	t.Helper()
	addr := FreeAddr(t)
	args := append([]string{"serve", "--listen", addr, "--data-dir", dataDir, "--nats-listen", "127.0.0.1:0"}, extra...)
	p := StartProcess(t, bin, args...)
	p.URL = "http://" + addr
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(p.URL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("gaffer serve not ready after 60s; log:\n%s", p.Log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Signal sends sig and waits for the process to exit, returning its exit
// error (nil for status 0).
func (p *Process) Signal(t testing.TB, sig syscall.Signal, timeout time.Duration) error {
	t.Helper()
	if err := p.Cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- p.Cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(timeout):
		p.Cmd.Process.Kill()
		t.Fatalf("process did not exit within %v after %v; log:\n%s", timeout, sig, p.Log())
		return nil
	}
}
