package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/gaffer-sre/gaffer/events"
	"github.com/gaffer-sre/gaffer/internal/platform/bus"
	"github.com/gaffer-sre/gaffer/internal/platform/bus/bustest"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/internal/platform/store"
)

// hookCounter is a webhook target counting the distinct events it got.
type hookCounter struct {
	*httptest.Server
	mu  sync.Mutex
	ids map[string]int
}

func newHookCounter(t *testing.T) *hookCounter {
	h := &hookCounter{ids: map[string]int{}}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ev, err := bus.ParseEvent(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		h.mu.Lock()
		h.ids[ev.ID]++
		h.mu.Unlock()
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hookCounter) has(id string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.ids[id] > 0
}

func TestEventsCLI(t *testing.T) {
	srv := platformtest.Start(t, platformtest.Options{EgressAllow: platformtest.AllowLoopback}) // the webhook is on 127.0.0.1
	tok := srv.Token(events.WriteScope)
	run := func(stdin string, args ...string) string {
		t.Helper()
		out, err := runGaffer(t, stdin, append(args, "--server", srv.URL, "--token", tok)...)
		if err != nil {
			t.Fatalf("gaffer %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	hook := newHookCounter(t)
	rule := fmt.Sprintf(`{"name": "cli rule", "condition": "type == \"gaffer.cli.test\" && data.n > 1",
		"actions": [{"type": "webhook", "url": %q}]}`, hook.URL)
	if out := run(rule, "events", "rules", "create", "-f", "-"); !strings.HasPrefix(out, "created rule cli rule (") {
		t.Fatalf("create: %s", out)
	}
	if out := run("", "events", "rules", "list"); !strings.Contains(out, "cli rule") || !strings.Contains(out, "webhook") {
		t.Fatalf("list: %s", out)
	}
	run("", "events", "publish", "--type", "gaffer.cli.test", "--id", "c1", "--data", `{"n": 1}`)
	run("", "events", "publish", "--type", "gaffer.cli.test", "--id", "c2", "--data", `{"n": 2}`)
	batch := filepath.Join(t.TempDir(), "batch.json")
	os.WriteFile(batch, []byte(`[{"specversion":"1.0","id":"c3","source":"/f","type":"gaffer.cli.test","data":{"n":3}},
		{"specversion":"1.0","id":"c4","source":"/f","type":"gaffer.cli.other"}]`), 0o600)
	if out := run("", "events", "publish", "-f", batch); !strings.Contains(out, "published event c3, seq") || !strings.Contains(out, "published event c4, seq") {
		t.Fatalf("publish batch: %s", out)
	}
	platformtest.Eventually(t, "webhooks", func() bool { return hook.has("c2") && hook.has("c3") })
	if hook.has("c1") {
		t.Fatal("c1 does not match the rule")
	}
	var listed []events.StoredEvent
	platformtest.Eventually(t, "list", func() bool {
		json.Unmarshal([]byte(run("", "events", "list", "--type", "gaffer.cli.*", "--output", "json")), &listed)
		return len(listed) == 4
	})
	if out := run("", "events", "list", "--filter", "data.n >= 2"); !strings.Contains(out, "c2") || strings.Contains(out, "c1") {
		t.Fatalf("list --filter: %s", out)
	}
	if out := run("", "events", "replay", "cli rule", "--since", "1h"); !strings.Contains(out, "2 of 4 events matched") {
		t.Fatalf("replay: %s", out)
	}
	run("", "events", "rules", "disable", "cli rule")
	if out := run("", "events", "rules", "get", "cli rule"); !strings.Contains(out, `"enabled": false`) {
		t.Fatalf("get after disable: %s", out)
	}
	run("", "events", "rules", "enable", "cli rule")
	update := strings.Replace(rule, "data.n > 1", "data.n > 2", 1)
	if out := run(update, "events", "rules", "update", "cli rule", "-f", "-", "-o", "json"); !strings.Contains(out, `data.n \u003e 2`) &&
		!strings.Contains(out, `data.n > 2`) {
		t.Fatalf("update: %s", out)
	}
	if out := run("", "events", "deadletters"); !strings.Contains(out, "ID") {
		t.Fatalf("deadletters: %s", out)
	}
	run("", "events", "rules", "delete", "cli rule")
	if out, err := runGaffer(t, "", "events", "rules", "get", "cli rule", "--server", srv.URL, "--token", tok); err == nil ||
		!strings.Contains(err.Error(), "404") {
		t.Fatalf("get after delete: %v %s", err, out)
	}
	if _, err := runGaffer(t, "", "events", "publish", "--type", "x", "--data", "{nope", "--server", srv.URL, "--token", tok); err == nil {
		t.Fatal("invalid --data accepted")
	}

	// tail prints events published while it runs.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	root := newRootCommand()
	pr, pw := io.Pipe()
	root.SetOut(pw)
	root.SetErr(io.Discard)
	root.SetArgs([]string{"events", "tail", "--type", "gaffer.cli.tail", "--server", srv.URL, "--token", tok})
	go func() { root.ExecuteContext(ctx); pw.Close() }()
	lines := make(chan string, 10)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := pr.Read(buf)
			if n > 0 {
				lines <- string(buf[:n])
			}
			if err != nil {
				close(lines)
				return
			}
		}
	}()
	deadline := time.After(20 * time.Second)
	for {
		run("", "events", "publish", "--type", "gaffer.cli.tail", "--data", `{"tail":true}`)
		select {
		case l := <-lines:
			if !strings.Contains(l, "gaffer.cli.tail") {
				t.Fatalf("tail printed %q", l)
			}
			return
		case <-time.After(300 * time.Millisecond):
		case <-deadline:
			t.Fatal("tail printed nothing")
		}
	}
}

// TestEventsSurviveSIGKILL runs the real binary, publishes events over
// HTTP from several clients, kills the server with SIGKILL mid-stream and
// restarts it on the same data. Every event that got a 2xx must be stored
// and must have reached the rule's webhook at least once.
func TestEventsSurviveSIGKILL(t *testing.T) {
	bin := platformtest.BuildGaffer(t)
	platformtest.EachBackend(t, func(t *testing.T, b platformtest.Backend) {
		dir := t.TempDir()
		var extra []string
		if b.Postgres() {
			// A multi-process installation: PostgreSQL and, when there is
			// one, an external NATS.
			extra = []string{"--db", b.DB}
			if bustest.ExternalAvailable() {
				extra = append(extra, "--nats-url", bustest.ExternalURL(t))
				t.Cleanup(func() { dropConsumer(t, installationConsumer(t, b.DB)) })
			}
		}
		extra = append(extra, "--events-ack-wait", "2s", "--egress-allow", "127.0.0.0/8") // the webhook is on loopback
		p := platformtest.StartServe(t, bin, dir, extra...)
		tokBytes, err := os.ReadFile(filepath.Join(dir, "admin.token"))
		if err != nil {
			t.Fatal(err)
		}
		tok := strings.TrimSpace(string(tokBytes))
		hook := newHookCounter(t)
		src := fmt.Sprintf("/crash/%x", rand.Uint64())
		post := func(url, ct, body string) (int, error) {
			req, _ := http.NewRequest("POST", url, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set("Content-Type", ct)
			resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
			if err != nil {
				return 0, err
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return resp.StatusCode, nil
		}
		rule, _ := json.Marshal(map[string]any{"name": "crash",
			"condition": fmt.Sprintf(`type == "gaffer.crash.test" && source == %q`, src),
			"actions":   []map[string]any{{"type": "webhook", "url": hook.URL, "backoff": "100ms"}}})
		if code, err := post(p.URL+"/api/v1/events/rules", "application/json", string(rule)); code != 201 {
			t.Fatalf("create rule: %d %v", code, err)
		}

		var mu sync.Mutex
		var acked []string
		var stop sync.WaitGroup
		quit := make(chan struct{})
		for w := 0; w < 4; w++ {
			stop.Add(1)
			go func() {
				defer stop.Done()
				for i := 0; ; i++ {
					select {
					case <-quit:
						return
					default:
					}
					id := fmt.Sprintf("w%d-%d", w, i)
					ev := fmt.Sprintf(`{"specversion":"1.0","id":%q,"source":%q,"type":"gaffer.crash.test","data":{"i":%d}}`, id, src, i)
					if code, err := post(p.URL+"/api/v1/events", "application/cloudevents+json", ev); err == nil && code == 202 {
						mu.Lock()
						acked = append(acked, id)
						mu.Unlock()
					}
				}
			}()
		}
		platformtest.Eventually(t, "events flowing", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(acked) >= 300
		})
		if err := p.Cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		p.Cmd.Wait()
		close(quit)
		stop.Wait()
		hook.mu.Lock()
		delivered := len(hook.ids)
		hook.mu.Unlock()
		t.Logf("%d events acknowledged before SIGKILL; %d delivered by then", len(acked), delivered)

		p = platformtest.StartServe(t, bin, dir, extra...)
		missing := func() (stored, delivered []string) {
			seen := map[string]bool{}
			cursor := ""
			for {
				req, _ := http.NewRequest("GET", p.URL+"/api/v1/events?limit=500&source="+src+"&cursor="+cursor, nil)
				req.Header.Set("Authorization", "Bearer "+tok)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				var page events.EventList
				json.NewDecoder(resp.Body).Decode(&page)
				resp.Body.Close()
				for _, it := range page.Items {
					ev, _ := bus.ParseEvent(it.Event)
					seen[ev.ID] = true
				}
				if cursor = page.NextCursor; cursor == "" {
					break
				}
			}
			for _, id := range acked {
				if !seen[id] {
					stored = append(stored, id)
				}
				if !hook.has(id) {
					delivered = append(delivered, id)
				}
			}
			return stored, delivered
		}
		if !platformtest.WaitFor(60*time.Second, func() bool {
			notStored, notDelivered := missing()
			return len(notStored) == 0 && len(notDelivered) == 0
		}) {
			notStored, notDelivered := missing()
			t.Fatalf("after restart: %d acknowledged events not listed (%v), %d not delivered (%v); log:\n%s",
				len(notStored), head(notStored), len(notDelivered), head(notDelivered), p.Log())
		}
		dup := 0
		hook.mu.Lock()
		for _, n := range hook.ids {
			if n > 1 {
				dup++
			}
		}
		hook.mu.Unlock()
		t.Logf("all %d acknowledged events stored and delivered; %d delivered more than once", len(acked), dup)
	})
}

func head(ids []string) []string { return ids[:min(len(ids), 10)] }

// installationConsumer reads the durable consumer name of a database.
func installationConsumer(t *testing.T, dsn string) string {
	st, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Logf("open %s: %v", dsn, err)
		return ""
	}
	defer st.Close()
	var id string
	st.QueryRowContext(context.Background(), "SELECT id FROM event_installation").Scan(&id)
	if id == "" {
		return ""
	}
	return "gaffer-events-" + id
}

func dropConsumer(t *testing.T, name string) {
	if name == "" {
		return
	}
	nc, err := nats.Connect(bustest.ExternalURL(t))
	if err != nil {
		return
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	js.DeleteConsumer(ctx, bus.StreamName, name)
}
