package bustest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"
)

var (
	externalMu   sync.Mutex
	externalURLs = map[testing.TB]string{}
	purged       = map[testing.TB]bool{}
)

// natsServerBinary finds a nats-server to run: $GAFFER_NATS_SERVER or
// nats-server on PATH (Debian installs it in /usr/sbin).
func natsServerBinary() string {
	if p := os.Getenv("GAFFER_NATS_SERVER"); p != "" {
		return p
	}
	if p, err := exec.LookPath("nats-server"); err == nil {
		return p
	}
	for _, p := range []string{"/usr/sbin/nats-server", "/usr/local/bin/nats-server"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// ExternalAvailable reports whether tests can use an external NATS server:
// a nats-server binary to start, or GAFFER_TEST_NATS_URL.
func ExternalAvailable() bool {
	return natsServerBinary() != "" || os.Getenv(NATSEnv) != ""
}

// ExternalURL returns the address of an external NATS server for the test:
// a private nats-server process with JetStream, started for this test (so
// tests in parallel packages never share a stream), or, without a
// nats-server binary, the shared GAFFER_TEST_NATS_URL. The same test gets
// the same server on every call, so a test can restart Gaffer on it. It
// skips the test when neither is available.
func ExternalURL(t testing.TB) string {
	t.Helper()
	externalMu.Lock()
	if u, ok := externalURLs[t]; ok {
		externalMu.Unlock()
		return u
	}
	externalMu.Unlock()
	u := ""
	if bin := natsServerBinary(); bin != "" {
		u = startNATSServer(t, bin)
	} else if env := os.Getenv(NATSEnv); env != "" {
		t.Logf("no nats-server binary: using the shared %s=%s", NATSEnv, env)
		u = env
	} else {
		t.Skipf("external NATS test skipped: no nats-server binary and %s is not set", NATSEnv)
	}
	externalMu.Lock()
	externalURLs[t] = u
	externalMu.Unlock()
	t.Cleanup(func() {
		externalMu.Lock()
		delete(externalURLs, t)
		delete(purged, t)
		externalMu.Unlock()
	})
	return u
}

// NeedsPurge reports, once per test, whether the external server is the
// shared one (whose event stream the test should purge before starting).
func NeedsPurge(t testing.TB) bool {
	externalMu.Lock()
	defer externalMu.Unlock()
	if externalURLs[t] != os.Getenv(NATSEnv) || purged[t] {
		return false
	}
	purged[t] = true
	return true
}

func startNATSServer(t testing.TB, bin string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().(*net.TCPAddr)
	l.Close()
	cmd := exec.Command(bin, "-a", "127.0.0.1", "-p", fmt.Sprint(addr.Port), "-js", "-sd", t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr.String(), time.Second)
		if err == nil {
			c.Close()
			return "nats://" + addr.String()
		}
		if time.Now().After(deadline) {
			t.Fatalf("nats-server on %s did not accept connections within 15s", addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
