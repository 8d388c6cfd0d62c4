package events_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/gaffer-sre/gaffer/events"
	"github.com/gaffer-sre/gaffer/internal/platform/audit"
	"github.com/gaffer-sre/gaffer/internal/platform/bus"
	"github.com/gaffer-sre/gaffer/internal/platform/bus/bustest"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
)

// testServer is a running server and what the tests need of it.
type testServer struct {
	*platformtest.Server
	t *testing.T
	// external is set when the server runs on the external NATS.
	external bool
	token    string
	service  *events.Service
}

// start runs a server on the database backend b (the zero Backend is
// SQLite in the data directory). A PostgreSQL server also uses the
// external NATS when one is available, the pairing of a production
// installation with several processes. A dataDir, when set, reuses the
// data directory of an earlier server (a restart); servers on one
// Backend share its database.
func start(t *testing.T, b platformtest.Backend, dataDir string, args ...string) *testServer {
	t.Helper()
	ts := &testServer{t: t, external: b.Postgres() && bustest.ExternalAvailable()}
	var consumer string
	if ts.external {
		// Registered after the NATS server's cleanup and before the Gaffer
		// server's, so it runs between them: leave no durable consumer
		// behind on a shared NATS server.
		url := bustest.ExternalURL(t)
		t.Cleanup(func() { deleteConsumer(t, url, consumer) })
	}
	ts.Server = platformtest.Start(t, platformtest.Options{Backend: b, ExternalNATS: ts.external, DataDir: dataDir,
		Args:        append([]string{"--events-ack-wait", "3s"}, args...),
		EgressAllow: platformtest.AllowLoopback}) // webhook receivers listen on 127.0.0.1
	svc, ok := ts.Deps().Lookup(events.Name)
	if !ok {
		t.Fatal("the events system is not running")
	}
	ts.service = svc.(*events.Service)
	consumer = ts.service.ConsumerName()
	ts.token = ts.Token(events.WriteScope)
	return ts
}

func deleteConsumer(t *testing.T, url, name string) {
	if name == "" {
		return
	}
	nc, err := nats.Connect(url)
	if err != nil {
		t.Logf("delete consumer %s: %v", name, err)
		return
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := js.DeleteConsumer(ctx, bus.StreamName, name); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		t.Logf("delete consumer %s: %v", name, err)
	}
}

// do sends a request with the test's events:write token.
func (ts *testServer) do(method, path string, body any) *platformtest.Response {
	ts.t.Helper()
	return ts.Do(method, path, ts.token, body)
}

// must fails the test unless the response has the status.
func must(t *testing.T, resp *platformtest.Response, status int) *platformtest.Response {
	t.Helper()
	if resp.Status != status {
		t.Fatalf("status %d, want %d: %s", resp.Status, status, resp.Body)
	}
	return resp
}

// createRule creates a rule and returns it.
func (ts *testServer) createRule(spec map[string]any) events.Rule {
	ts.t.Helper()
	var r events.Rule
	must(ts.t, ts.do("POST", "/api/v1/events/rules", spec), http.StatusCreated).JSON(ts.t, &r)
	return r
}

// publish posts one structured-mode event.
func (ts *testServer) publish(ev map[string]any) events.IngestResult {
	ts.t.Helper()
	if ev["specversion"] == nil {
		ev["specversion"] = "1.0"
	}
	var res events.IngestResult
	must(ts.t, ts.DoWith("POST", "/api/v1/events", ts.token, "application/cloudevents+json", ev), http.StatusAccepted).JSON(ts.t, &res)
	return res
}

// list returns the stored events for a query string.
func (ts *testServer) list(query string) events.EventList {
	ts.t.Helper()
	var l events.EventList
	must(ts.t, ts.do("GET", "/api/v1/events?"+query, nil), http.StatusOK).JSON(ts.t, &l)
	return l
}

// receiver is a webhook target that records the CloudEvents it gets and
// answers with status() (200 by default).
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	got    []bus.Event
	ids    map[string]int
	hdrs   []http.Header
	status func() int
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{ids: map[string]int{}, status: func() int { return http.StatusOK }}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		code := rc.status()
		if code == http.StatusOK {
			ev, err := bus.ParseEvent(body)
			if err != nil || r.Header.Get("Content-Type") != "application/cloudevents+json; charset=utf-8" {
				http.Error(w, fmt.Sprintf("not a structured CloudEvent: %v", err), http.StatusBadRequest)
				return
			}
			rc.mu.Lock()
			rc.got = append(rc.got, *ev)
			rc.ids[ev.ID]++
			rc.hdrs = append(rc.hdrs, r.Header.Clone())
			rc.mu.Unlock()
		}
		w.WriteHeader(code)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.got)
}

func (rc *receiver) distinct() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.ids)
}

func (rc *receiver) events() []bus.Event {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]bus.Event(nil), rc.got...)
}

// parseEvent reads a stored CloudEvent.
func parseEvent(t *testing.T, b []byte) *bus.Event {
	t.Helper()
	ev, err := bus.ParseEvent(b)
	if err != nil {
		t.Fatalf("stored event %s: %v", b, err)
	}
	return ev
}

// runID is unique to a test run, for event sources: the external stream
// deduplicates source and id across tests for two minutes.
func runID() string {
	var b [4]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func auditFilter(actionPrefix string) audit.Filter {
	return audit.Filter{Action: actionPrefix, Limit: 100}
}

// errorMessage returns the message of a JSON error answer.
func errorMessage(t *testing.T, resp *platformtest.Response) string {
	t.Helper()
	var env struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	json.Unmarshal(resp.Body, &env)
	return env.Error.Message
}

// drained waits until the server's consumer has acknowledged every event
// in the stream: all rules have acted on them.
func (ts *testServer) drained() {
	ts.t.Helper()
	platformtest.Eventually(ts.t, "events processed", func() bool {
		c, err := ts.Deps().Bus.JS.Consumer(context.Background(), bus.StreamName, ts.service.ConsumerName())
		if err != nil {
			return false
		}
		info, err := c.Info(context.Background())
		return err == nil && info.NumPending == 0 && info.NumAckPending == 0
	})
}
