package events_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/gaffer-sre/gaffer/events"
	"github.com/gaffer-sre/gaffer/internal/platform/bus"
	"github.com/gaffer-sre/gaffer/internal/platform/bus/bustest"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
	"github.com/gaffer-sre/gaffer/internal/platform/jobs"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
)

func TestWebhookDelivery(t *testing.T) {
	platformtest.EachBackend(t, func(t *testing.T, b platformtest.Backend) {
		ts := start(t, b, "")
		rc := newReceiver(t)
		src := "/" + runID()
		r := ts.createRule(map[string]any{"name": "deploys", "condition": `type.startsWith("gaffer.deploy.")`,
			"actions": []map[string]any{{"type": "webhook", "url": rc.URL + "/hook"}}})
		ts.publish(map[string]any{"id": "d1", "source": src, "type": "gaffer.deploy.started", "data": map[string]any{"app": "api"}})
		ts.publish(map[string]any{"id": "x1", "source": src, "type": "gaffer.other"})
		// Published on NATS by another system, processed all the same.
		if _, err := ts.Deps().Bus.Publish(context.Background(), &bus.Event{ID: "d2", Source: src,
			Type: "gaffer.deploy.finished"}); err != nil {
			t.Fatal(err)
		}
		platformtest.Eventually(t, "two deliveries", func() bool { return rc.distinct() == 2 })
		got := rc.events()
		ids := map[string]bool{}
		for _, ev := range got {
			ids[ev.ID] = true
		}
		if !ids["d1"] || !ids["d2"] || ids["x1"] {
			t.Fatalf("delivered %v", ids)
		}
		if h := rc.hdrs[0]; h.Get("X-Gaffer-Rule") != r.ID || h.Get("X-Gaffer-Delivery-Attempt") != "1" {
			t.Fatalf("headers %v", h)
		}
		var rule events.Rule
		platformtest.Eventually(t, "stats", func() bool {
			must(t, ts.do("GET", "/api/v1/events/rules/"+r.ID, nil), 200).JSON(t, &rule)
			return rule.Stats != nil && rule.Stats.Matched == 2
		})
	})
}

// TestWebhookDownDeadLetter: a target that keeps failing is retried with
// backoff, then dead-lettered (nothing dropped), listed, and re-driven once
// it is back.
func TestWebhookDownDeadLetter(t *testing.T) {
	platformtest.EachBackend(t, func(t *testing.T, b platformtest.Backend) {
		ts := start(t, b, "")
		rc := newReceiver(t)
		var calls atomic.Int64
		var down atomic.Bool
		down.Store(true)
		rc.status = func() int {
			calls.Add(1)
			if down.Load() {
				return http.StatusServiceUnavailable
			}
			return http.StatusOK
		}
		r := ts.createRule(map[string]any{"name": "pager", "condition": `type == "gaffer.alerting.firing"`,
			"actions": []map[string]any{{"type": "webhook", "url": rc.URL, "max_attempts": 3, "backoff": "20ms"}}})
		src := "/" + runID()
		for i := 0; i < 3; i++ {
			ts.publish(map[string]any{"id": fmt.Sprint("a", i), "source": src, "type": "gaffer.alerting.firing"})
		}
		var page httpapi.Page[events.DeadLetter]
		platformtest.Eventually(t, "three dead letters", func() bool {
			must(t, ts.do("GET", "/api/v1/events/deadletters", nil), 200).JSON(t, &page)
			return len(page.Items) == 3
		})
		if n := calls.Load(); n != 9 {
			t.Fatalf("%d attempts, want 3 events × 3 attempts", n)
		}
		dl := page.Items[0]
		if dl.RuleID != r.ID || dl.Attempts != 3 || dl.Status != events.DeadLetterDead ||
			!strings.Contains(dl.Error, "503") || dl.Action.URL != rc.URL || parseEvent(t, dl.Event).Source != src {
			t.Fatalf("dead letter %+v", dl)
		}
		// The retries ran as jobs that end cancelled, not lost.
		platformtest.Eventually(t, "webhook jobs cancelled", func() bool {
			list, err := ts.Deps().Jobs.List(context.Background(), jobs.ListFilter{Kinds: []string{events.WebhookJob},
				States: []string{jobs.StateCancelled}})
			return err == nil && len(list.Jobs) == 3
		})
		// Re-drive once the target is back.
		down.Store(false)
		var redriven events.DeadLetter
		must(t, ts.do("POST", fmt.Sprintf("/api/v1/events/deadletters/%d/redrive", dl.ID), nil), http.StatusAccepted).JSON(t, &redriven)
		// The re-drive job may deliver before the answer is read back.
		if (redriven.Status != events.DeadLetterRedriving && redriven.Status != events.DeadLetterDelivered) || redriven.Redrives != 1 {
			t.Fatalf("redriven %+v", redriven)
		}
		// A minute, not Eventually's 20 s: under the race detector on a
		// loaded machine the re-drive job once took longer (CI, twice).
		var last events.DeadLetter
		if !platformtest.WaitFor(time.Minute, func() bool {
			must(t, ts.do("GET", fmt.Sprintf("/api/v1/events/deadletters/%d", dl.ID), nil), 200).JSON(t, &last)
			return last.Status == events.DeadLetterDelivered && rc.distinct() == 1
		}) {
			t.Fatalf("re-driven delivery: dead letter %+v, %d distinct events at the receiver", last, rc.distinct())
		}
		must(t, ts.do("POST", fmt.Sprintf("/api/v1/events/deadletters/%d/redrive", dl.ID), nil), http.StatusConflict)
		must(t, ts.do("GET", "/api/v1/events/deadletters", nil), 200).JSON(t, &page)
		if len(page.Items) != 2 {
			t.Fatalf("%d dead letters left, want 2", len(page.Items))
		}
	})
}

func TestWebhookPermanentFailure(t *testing.T) {
	ts := start(t, platformtest.Backend{}, "")
	rc := newReceiver(t)
	var calls atomic.Int64
	rc.status = func() int { calls.Add(1); return http.StatusBadRequest }
	ts.createRule(map[string]any{"name": "bad", "condition": `true`,
		"actions": []map[string]any{{"type": "webhook", "url": rc.URL, "max_attempts": 5, "backoff": "10ms"}}})
	ts.publish(map[string]any{"id": "p1", "source": "/t", "type": "gaffer.test"})
	var page httpapi.Page[events.DeadLetter]
	platformtest.Eventually(t, "dead letter", func() bool {
		must(t, ts.do("GET", "/api/v1/events/deadletters", nil), 200).JSON(t, &page)
		return len(page.Items) == 1
	})
	if calls.Load() != 1 || page.Items[0].Attempts != 1 || !strings.Contains(page.Items[0].Error, "HTTP 400") {
		t.Fatalf("a 400 is not retried: %d calls, %+v", calls.Load(), page.Items[0])
	}
}

func TestPublishActionAndLoopGuard(t *testing.T) {
	platformtest.EachBackend(t, func(t *testing.T, b platformtest.Backend) {
		ts := start(t, b, "")
		rc := newReceiver(t)
		src := "/" + runID()
		ts.createRule(map[string]any{"name": "route", "condition": `type == "gaffer.alerting.firing" && source == "` + src + `"`,
			"actions": []map[string]any{{"type": "publish", "event_type": "gaffer.incident.opened",
				"subject": `data.service`, "data": `{"service": data.service, "summary": "incident for " + data.service}`}}})
		ts.createRule(map[string]any{"name": "watch incidents", "condition": `type == "gaffer.incident.opened"`,
			"actions": []map[string]any{{"type": "webhook", "url": rc.URL}}})
		ts.publish(map[string]any{"id": "f1", "source": src, "type": "gaffer.alerting.firing", "data": map[string]any{"service": "api"}})
		platformtest.Eventually(t, "derived event delivered", func() bool { return rc.count() == 1 })
		got := rc.events()[0]
		if got.Subject != "api" || string(got.Data) != `{"service":"api","summary":"incident for api"}` ||
			got.Extensions[events.HopsExtension] != float64(1) || got.Extensions[events.CauseExtension] != "f1" {
			t.Fatalf("derived %+v %s", got, got.Data)
		}
		// Two rules feeding each other stop at the hop limit, with a
		// dead letter saying why.
		ts.createRule(map[string]any{"name": "ping", "condition": `type == "gaffer.test.ping"`,
			"actions": []map[string]any{{"type": "publish", "event_type": "gaffer.test.pong"}}})
		ts.createRule(map[string]any{"name": "pong", "condition": `type == "gaffer.test.pong"`,
			"actions": []map[string]any{{"type": "publish", "event_type": "gaffer.test.ping"}}})
		ts.publish(map[string]any{"id": "loop", "source": src, "type": "gaffer.test.ping"})
		var page httpapi.Page[events.DeadLetter]
		platformtest.Eventually(t, "loop stopped", func() bool {
			must(t, ts.do("GET", "/api/v1/events/deadletters", nil), 200).JSON(t, &page)
			return len(page.Items) == 1
		})
		if !strings.Contains(page.Items[0].Error, "loop guard") {
			t.Fatalf("dead letter %+v", page.Items[0])
		}
		platformtest.Eventually(t, "the loop's events listed", func() bool {
			return len(ts.list("type=gaffer.test.p*&limit=100").Items) == events.MaxHops+1
		})
	})
}

func TestJobAction(t *testing.T) {
	ts := start(t, platformtest.Backend{}, "")
	ts.createRule(map[string]any{"name": "runbook", "condition": `type == "gaffer.alerting.firing"`,
		"actions": []map[string]any{{"type": "job", "kind": "platform.noop"}}})
	ts.createRule(map[string]any{"name": "custom args", "condition": `type == "gaffer.alerting.firing"`,
		"actions": []map[string]any{{"type": "job", "kind": "platform.noop", "args": `{"service": data.service}`}}})
	ts.publish(map[string]any{"id": "j1", "source": "/t", "type": "gaffer.alerting.firing", "data": map[string]any{"service": "api"}})
	var list jobs.ListResult
	platformtest.Eventually(t, "two jobs", func() bool {
		var err error
		list, err = ts.Deps().Jobs.List(context.Background(), jobs.ListFilter{Kinds: []string{"platform.noop"}})
		return err == nil && len(list.Jobs) == 2
	})
	var sawDefault, sawCustom bool
	for _, j := range list.Jobs {
		var args map[string]json.RawMessage
		json.Unmarshal(j.Args, &args)
		sawDefault = sawDefault || (args["event"] != nil && strings.Contains(string(args["rule_name"]), "runbook"))
		sawCustom = sawCustom || string(args["service"]) == `"api"`
	}
	if !sawDefault || !sawCustom {
		t.Fatalf("job arguments: %+v", list.Jobs)
	}
}

// TestSuppress: a dedup window passes the first event of each key, and the
// budget survives a restart.
func TestSuppress(t *testing.T) {
	platformtest.EachBackend(t, func(t *testing.T, b platformtest.Backend) {
		ts := start(t, b, "")
		dir := ts.DataDir
		rc := newReceiver(t)
		src := "/" + runID()
		ts.createRule(map[string]any{"name": "storm", "condition": `type == "gaffer.alerting.firing"`,
			"actions": []map[string]any{
				{"type": "suppress", "key": "data.alert", "window": "1h"},
				{"type": "webhook", "url": rc.URL}}})
		ts.createRule(map[string]any{"name": "rate", "condition": `type == "gaffer.test.rate"`,
			"actions": []map[string]any{
				{"type": "suppress", "window": "1h", "limit": 3},
				{"type": "webhook", "url": rc.URL}}})
		for i := 0; i < 10; i++ {
			ts.publish(map[string]any{"id": fmt.Sprint("s", i), "source": src, "type": "gaffer.alerting.firing",
				"data": map[string]any{"alert": fmt.Sprint("disk", i%2)}})
			ts.publish(map[string]any{"id": fmt.Sprint("r", i), "source": src, "type": "gaffer.test.rate"})
		}
		platformtest.Eventually(t, "events indexed", func() bool { return len(ts.list("limit=100").Items) == 20 })
		platformtest.Eventually(t, "deliveries", func() bool { return rc.count() == 5 })
		ts.Shutdown()

		// A changed ack wait is applied to the existing consumer.
		ts2 := start(t, b, dir, "--events-ack-wait", "4s")
		// (NATS 2.9, the external server in CI, cannot update it.)
		if c, err := ts2.Deps().Bus.JS.Consumer(t.Context(), bus.StreamName, ts2.service.ConsumerName()); err != nil ||
			(!ts2.external && c.CachedInfo().Config.AckWait != 4*time.Second) {
			t.Fatalf("consumer after restart: %v", err)
		}
		ts2.publish(map[string]any{"id": "after", "source": src, "type": "gaffer.alerting.firing",
			"data": map[string]any{"alert": "disk0"}})
		ts2.publish(map[string]any{"id": "new", "source": src, "type": "gaffer.alerting.firing",
			"data": map[string]any{"alert": "cpu"}})
		platformtest.Eventually(t, "new key delivered", func() bool { return rc.count() == 6 })
		var rule events.Rule
		platformtest.Eventually(t, "duplicate suppressed", func() bool {
			must(t, ts2.do("GET", "/api/v1/events/rules/storm", nil), 200).JSON(t, &rule)
			return rule.Stats.Suppressed == 1 && rule.Stats.Matched == 2
		})
		for _, ev := range rc.events() {
			if ev.ID == "after" {
				t.Fatal("a duplicate within the window was delivered after a restart")
			}
		}
	})
}

// TestProcessesShareTheStream runs two servers on one database and NATS:
// they share the installation's durable consumer, so each event is
// processed once between them (at least once, never once per process).
func TestProcessesShareTheStream(t *testing.T) {
	platformtest.EachBackend(t, func(t *testing.T, b platformtest.Backend) {
		if !b.Postgres() {
			t.Skip("two processes cannot share an SQLite file and an embedded NATS")
		}
		if !bustest.ExternalAvailable() {
			t.Skipf("needs an external NATS: no nats-server binary and %s is unset", bustest.NATSEnv)
		}
		testProcessesShareTheStream(t, b)
	})
}

func testProcessesShareTheStream(t *testing.T, b platformtest.Backend) {
	one := start(t, b, "")
	two := start(t, b, "")
	if one.service.ConsumerName() != two.service.ConsumerName() {
		t.Fatalf("consumers %s and %s", one.service.ConsumerName(), two.service.ConsumerName())
	}
	rc := newReceiver(t)
	r := one.createRule(map[string]any{"name": "shared", "condition": `type == "gaffer.test.shared"`,
		"actions": []map[string]any{{"type": "webhook", "url": rc.URL}}})
	// The other process hears of the rule at once.
	platformtest.Eventually(t, "rule in the second process", func() bool {
		var got events.Rule
		must(t, two.do("GET", "/api/v1/events/rules/"+r.ID, nil), 200).JSON(t, &got)
		return got.Index != ""
	})
	src := "/" + runID()
	for i := 0; i < 200; i++ {
		ts := one
		if i%2 == 1 {
			ts = two
		}
		ts.publish(map[string]any{"id": fmt.Sprint("sh", i), "source": src, "type": "gaffer.test.shared"})
	}
	platformtest.Eventually(t, "200 deliveries", func() bool { return rc.distinct() == 200 })
	matched := func(ts *testServer) int64 {
		var got events.Rule
		must(t, ts.do("GET", "/api/v1/events/rules/"+r.ID, nil), 200).JSON(t, &got)
		return got.Stats.Matched
	}
	m1, m2 := matched(one), matched(two)
	if m1 == 0 || m2 == 0 || m1+m2 < 200 || m1+m2 > 210 {
		t.Fatalf("processed %d and %d times; want the 200 events split between the processes", m1, m2)
	}
	t.Logf("process one matched %d, two %d; %d deliveries for 200 events", m1, m2, rc.count())
}

// TestConsumerRecreated: when the durable consumer disappears (deleted by
// an operator, or NATS lost its state), the next start resumes from the
// event index rather than from the installation's beginning.
func TestConsumerRecreated(t *testing.T) {
	ts := start(t, platformtest.Backend{}, "")
	rc := newReceiver(t)
	ts.createRule(map[string]any{"name": "r", "condition": `type == "gaffer.test.re"`,
		"actions": []map[string]any{{"type": "webhook", "url": rc.URL}}})
	for i := 0; i < 5; i++ {
		ts.publish(map[string]any{"id": fmt.Sprint("re", i), "source": "/t", "type": "gaffer.test.re"})
	}
	platformtest.Eventually(t, "indexed", func() bool { return len(ts.list("").Items) == 5 })
	name := ts.service.ConsumerName()
	if err := ts.Deps().Bus.JS.DeleteConsumer(context.Background(), bus.StreamName, name); err != nil {
		t.Fatal(err)
	}
	dir := ts.DataDir
	ts.Shutdown()
	ts = start(t, platformtest.Backend{}, dir)
	info, err := ts.Deps().Bus.JS.Consumer(context.Background(), bus.StreamName, name)
	if err != nil {
		t.Fatal(err)
	}
	if cfg := info.CachedInfo().Config; cfg.DeliverPolicy != jetstream.DeliverByStartSequencePolicy || cfg.OptStartSeq != 1 {
		t.Fatalf("re-created consumer starts with %v at %d", cfg.DeliverPolicy, cfg.OptStartSeq)
	}
	ts.publish(map[string]any{"id": "after", "source": "/t", "type": "gaffer.test.re"})
	platformtest.Eventually(t, "new event delivered", func() bool {
		for _, ev := range rc.events() {
			if ev.ID == "after" {
				return true
			}
		}
		return false
	})
}
