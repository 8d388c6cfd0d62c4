package agent

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// servingAgent is an agent serving its request subjects on an in-process
// NATS server, without a Gaffer server: the test plays the server.
func servingAgent(t *testing.T, key ed25519.PublicKey, now func() time.Time) (*Agent, *nats.Conn) {
	t.Helper()
	ns, err := server.NewServer(&server.Options{DontListen: true, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats not ready")
	}
	t.Cleanup(ns.Shutdown)
	connect := func() *nats.Conn {
		nc, err := nats.Connect("", nats.InProcessServer(ns))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		return nc
	}
	act, err := LoadAction(writeAction(t, t.TempDir(), "name: touch\nversion: '1'\ncommand: ./run.sh\n", "echo ran"))
	if err != nil {
		t.Fatal(err)
	}
	a := &Agent{name: "web-1", boot: "boot1", nc: connect(), log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		actions: map[string]*Action{"touch": act}, running: map[string]context.CancelFunc{}, finished: map[string]finishedRun{},
		wake: make(chan struct{}, 1), verifier: NewRequestVerifier(key, "web-1", time.Minute, now)}
	for verb, h := range map[string]nats.MsgHandler{VerbRun: a.handleRun, VerbStatus: a.handleStatus, VerbCancel: a.handleCancel} {
		if _, err := a.nc.Subscribe(ToAgent("web-1")+"."+verb, h); err != nil {
			t.Fatal(err)
		}
	}
	a.nc.Flush()
	return a, connect()
}

// TestAgentRunsOnlySignedRequests: the agent starts a run the server
// signed, and refuses an unsigned, forged, stale, replayed or misdirected
// one without running anything.
func TestAgentRunsOnlySignedRequests(t *testing.T) {
	key := testKey(1)
	now := t0
	clock := func() time.Time { return now }
	a, nc := servingAgent(t, key.Public().(ed25519.PublicKey), clock)
	server := NewRequestSigner(key, clock)
	forger := NewRequestSigner(testKey(9), clock)
	ask := func(data []byte) RunReply {
		t.Helper()
		msg, err := nc.Request(ToAgent("web-1")+"."+VerbRun, data, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		var r RunReply
		if err := json.Unmarshal(msg.Data, &r); err != nil {
			t.Fatalf("reply %s: %v", msg.Data, err)
		}
		return r
	}
	sign := func(s *RequestSigner, boot string, run string) []byte {
		b, err := s.Sign("web-1", boot, VerbRun, RunRequest{Run: run, Action: "touch", Params: json.RawMessage(`{}`)})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	stale := sign(server, "boot1", "r-stale")
	for _, c := range []struct {
		name, want string
		data       []byte
		retry      bool
	}{
		{"unsigned", "not signed by the server", mustJSON(RunRequest{Run: "r-plain", Action: "touch"}), false},
		{"forged", "does not verify", sign(forger, "boot1", "r-forged"), false},
		{"earlier life", "earlier life", sign(server, "boot0", "r-old-life"), true},
	} {
		r := ask(c.data)
		if r.Accepted || !strings.Contains(r.Error, c.want) || r.Retry != c.retry {
			t.Errorf("%s: %+v, want refused with %q (retry %v)", c.name, r, c.want, c.retry)
		}
	}
	good := sign(server, "boot1", "r1")
	if r := ask(good); !r.Accepted {
		t.Fatalf("signed request refused: %+v", r)
	}
	if r := ask(good); r.Accepted || !strings.Contains(r.Error, "already received") {
		t.Fatalf("replayed request: %+v", r)
	}
	now = now.Add(2 * time.Minute)
	if r := ask(stale); r.Accepted || !strings.Contains(r.Error, "too long ago") {
		t.Fatalf("stale request: %+v", r)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for id := range a.running {
		if id != "r1" {
			t.Errorf("run %s started", id)
		}
	}
	for id := range a.finished {
		if id != "r1" {
			t.Errorf("run %s ran", id)
		}
	}
}

// TestAgentStatusNeedsSignature: an unsigned status request gets an
// error, not the agent's runs.
func TestAgentStatusNeedsSignature(t *testing.T) {
	key := testKey(1)
	_, nc := servingAgent(t, key.Public().(ed25519.PublicKey), at(t0))
	ask := func(data []byte) StatusReply {
		t.Helper()
		msg, err := nc.Request(ToAgent("web-1")+"."+VerbStatus, data, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		var r StatusReply
		json.Unmarshal(msg.Data, &r)
		return r
	}
	if r := ask(mustJSON(StatusRequest{Runs: []string{"r1"}})); r.Error == "" || len(r.Runs) != 0 {
		t.Fatalf("unsigned status: %+v", r)
	}
	b, _ := NewRequestSigner(key, at(t0)).Sign("web-1", "", VerbStatus, StatusRequest{Runs: []string{"r1"}})
	if r := ask(b); r.Error != "" || r.Boot != "boot1" || r.Runs["r1"] != StatusUnknown {
		t.Fatalf("signed status: %+v", r)
	}
}
