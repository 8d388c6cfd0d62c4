package main

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
)

// TestRestartsAfterSIGKILL is issue #15 item 14: one restart in four
// after kill -9 failed with "embedded nats did not become ready within
// 10s". The cause was the NATS address still being held (by the old
// process while it exits, or by anything else): nats-server then gives up
// at once, says why only to a logger Gaffer had switched off, and Gaffer
// waited 10 s for it. Here the real binary is killed mid-publish and
// restarted at once on the same data directory and NATS address, five
// times; then once while the test itself holds the address, which the
// server must name in its log and wait for.
func TestRestartsAfterSIGKILL(t *testing.T) {
	bin := platformtest.BuildGaffer(t)
	dir := t.TempDir()
	natsAddr := platformtest.FreeAddr(t)
	var prev *platformtest.Process
	for round := range 6 {
		var held net.Listener
		if round == 5 {
			prev.Cmd.Wait()
			prev = nil
			var err error
			if held, err = net.Listen("tcp", natsAddr); err != nil {
				t.Fatalf("hold the NATS address: %v", err)
			}
		}
		addr := platformtest.FreeAddr(t)
		p := platformtest.StartProcess(t, bin, "serve", "--listen", addr, "--data-dir", dir,
			"--nats-listen", natsAddr, "--roles", "events")
		if prev != nil {
			prev.Cmd.Wait() // reap the killed one only after the new one started
		}
		if held != nil {
			platformtest.Eventually(t, "the held address to be reported", func() bool {
				return strings.Contains(p.Log(), "address already in use")
			})
			held.Close()
		}
		waitReady(t, p, addr, round)
		if strings.Contains(p.Log(), "cannot listen yet") {
			t.Logf("round %d: the NATS address was still held at start, and waited for", round)
		}
		publishUntilKilled(t, p, addr, dir, round)
		prev = p
	}
	prev.Cmd.Wait()
}

// waitReady waits for /readyz, failing at once if the server reports an
// error (it exits after one).
func waitReady(t *testing.T, p *platformtest.Process, addr string, round int) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if log := p.Log(); strings.Contains(log, "level=ERROR") || strings.Contains(log, "Error:") {
			t.Fatalf("restart %d failed; log:\n%s", round, log)
		}
		if time.Now().After(deadline) {
			t.Fatalf("restart %d not ready after 90s; log:\n%s", round, p.Log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// publishUntilKilled publishes events and sends SIGKILL while requests
// are in flight, so that JetStream is stopped mid-write.
func publishUntilKilled(t *testing.T, p *platformtest.Process, addr, dir string, round int) {
	t.Helper()
	tok, err := os.ReadFile(filepath.Join(dir, "admin.token"))
	if err != nil {
		t.Fatal(err)
	}
	published := make(chan int, 64)
	go func() {
		for n := 0; ; n++ {
			var b bytes.Buffer
			b.WriteString("[")
			for j := range 50 {
				if j > 0 {
					b.WriteString(",")
				}
				fmt.Fprintf(&b, `{"specversion":"1.0","id":"r%d-%d-%d","source":"/restart","type":"test.restart","data":{"n":%d}}`, round, n, j, j)
			}
			b.WriteString("]")
			req, _ := http.NewRequest("POST", "http://"+addr+"/api/v1/events", &b)
			req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
			req.Header.Set("Content-Type", "application/cloudevents-batch+json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				close(published)
				return
			}
			resp.Body.Close()
			published <- resp.StatusCode
		}
	}()
	for range 20 {
		if status := <-published; status != http.StatusOK && status != http.StatusAccepted {
			t.Fatalf("round %d: publish answered %d", round, status)
		}
	}
	if err := p.Cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for range published {
	}
}
