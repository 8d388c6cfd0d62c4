package bus

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// lockedBuffer collects a logger's output for a test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestEmbeddedWaitsForItsAddress is issue #15 item 14: after a kill -9
// and an immediate restart, the old process may still hold the NATS
// address. The start used to wait 10 s for a server that had already
// given up, and said only "did not become ready"; now it logs the cause,
// waits for the address and starts once it is free.
func TestEmbeddedWaitsForItsAddress(t *testing.T) {
	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := held.Addr().String()
	var logs lockedBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	opened := make(chan error, 1)
	var b *Bus
	go func() {
		var err error
		b, err = Open(context.Background(), Options{DataDir: t.TempDir(), Listen: addr, Log: log})
		opened <- err
	}()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(logs.String(), "address already in use") {
		select {
		case err := <-opened:
			t.Fatalf("Open returned while its address was held: %v; log:\n%s", err, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no cause logged while the address was held; log:\n%s", logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	held.Close()
	if err := <-opened; err != nil {
		t.Fatalf("Open after the address was freed: %v; log:\n%s", err, logs.String())
	}
	defer b.Close()
	if got := b.server.Addr().String(); got != addr {
		t.Fatalf("listening on %s, want %s", got, addr)
	}
}

// TestEmbeddedGivesUpWithTheCause checks that an address held for good
// ends the start with the listen error, not a bare timeout.
func TestEmbeddedGivesUpWithTheCause(t *testing.T) {
	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	saved := embeddedStartup
	embeddedStartup.PortWait = 300 * time.Millisecond
	defer func() { embeddedStartup = saved }()
	_, err = Open(context.Background(), Options{DataDir: t.TempDir(), Listen: held.Addr().String(),
		Log: slog.New(slog.NewTextHandler(&lockedBuffer{}, nil))})
	if !errors.Is(err, syscall.EADDRINUSE) || !strings.Contains(err.Error(), held.Addr().String()) {
		t.Fatalf("Open on a held address: %v; want the address and EADDRINUSE", err)
	}
}

// TestEmbeddedTakesAFreePortWhenNotTold is issue #17 item 2: a second
// gaffer serve on one machine, with no --nats-listen, found the default
// port taken and failed after a wait. With ListenAnyPort it listens on a
// free port at once, names the taken address, and records its own address
// in the data directory for workers.
func TestEmbeddedTakesAFreePortWhenNotTold(t *testing.T) {
	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	saved := embeddedStartup
	embeddedStartup.PortWait = time.Hour // a wait would hang the test
	defer func() { embeddedStartup = saved }()
	var logs lockedBuffer
	dir := t.TempDir()
	b, err := Open(context.Background(), Options{DataDir: dir, Listen: held.Addr().String(), ListenAnyPort: true,
		Log: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatalf("Open with the default address taken: %v", err)
	}
	defer b.Close()
	got := b.server.Addr().String()
	if got == held.Addr().String() || !strings.HasPrefix(got, "127.0.0.1:") {
		t.Fatalf("listening on %s; want another port of 127.0.0.1", got)
	}
	if !strings.Contains(logs.String(), held.Addr().String()) || !strings.Contains(logs.String(), "in use") {
		t.Fatalf("the taken address is not named; log:\n%s", logs.String())
	}
	u, err := LocalURL(dir)
	if err != nil || !strings.HasSuffix(u, "@"+got) {
		t.Fatalf("recorded address %q (%v), want one ending in @%s", u, err, got)
	}
}

// TestNATSLoggerKeepsTheFatalCause checks the path nats-server itself
// reports failures on (a listen error after the probe, JetStream failing
// to start): the cause is kept, and marked EADDRINUSE when it is that.
func TestNATSLoggerKeepsTheFatalCause(t *testing.T) {
	var logs lockedBuffer
	l := &natsLogger{log: slog.New(slog.NewTextHandler(&logs, nil))}
	l.Warnf("starting %d", 1)
	l.Fatalf("Error listening on port: %s, %q", "127.0.0.1:7422", "listen tcp 127.0.0.1:7422: bind: address already in use")
	l.Fatalf("second")
	if err := l.failure(); !errors.Is(err, syscall.EADDRINUSE) || !strings.Contains(err.Error(), "7422") {
		t.Fatalf("failure() = %v", err)
	}
	if s := logs.String(); !strings.Contains(s, "starting 1") || !strings.Contains(s, "Error listening on port") {
		t.Fatalf("log:\n%s", s)
	}
}
