package events_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gaffer-sre/gaffer/events"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
)

// TestWebhookEgressPolicy: under the default policy a webhook to a
// loopback, link-local or private address is dead-lettered at once (no
// retries) with the policy's reason, and the target is never reached;
// start's servers, which allow loopback, deliver to the same receiver.
func TestWebhookEgressPolicy(t *testing.T) {
	srv := platformtest.Start(t, platformtest.Options{Args: []string{"--events-ack-wait", "3s"}})
	ts := &testServer{Server: srv, t: t, token: srv.Token(events.WriteScope)}
	rc := newReceiver(t)
	var calls atomic.Int64
	rc.status = func() int { calls.Add(1); return http.StatusOK }
	targets := map[string]string{rc.URL: "loopback", "http://169.254.169.254/hook": "link-local", "http://192.168.1.1/hook": "private"}
	for u := range targets {
		ts.createRule(map[string]any{"name": "to " + u, "condition": `type == "gaffer.test.egress"`,
			"actions": []map[string]any{{"type": "webhook", "url": u, "max_attempts": 5, "backoff": "10ms"}}})
	}
	ts.publish(map[string]any{"id": "e1", "source": "/" + runID(), "type": "gaffer.test.egress"})
	var page httpapi.Page[events.DeadLetter]
	platformtest.Eventually(t, "three dead letters", func() bool {
		must(t, ts.do("GET", "/api/v1/events/deadletters", nil), 200).JSON(t, &page)
		return len(page.Items) == len(targets)
	})
	for _, dl := range page.Items {
		reason := targets[dl.Action.URL]
		if dl.Attempts != 1 || !strings.Contains(dl.Error, "egress policy") || !strings.Contains(dl.Error, reason) ||
			!strings.Contains(dl.Error, "--egress-allow") {
			t.Errorf("%s: %d attempts, error %q; want one attempt refused as %s", dl.Action.URL, dl.Attempts, dl.Error, reason)
		}
	}
	if calls.Load() != 0 {
		t.Fatalf("the loopback receiver was reached %d times under the default policy", calls.Load())
	}

	open := start(t, platformtest.Backend{}, "")
	open.createRule(map[string]any{"name": "to receiver", "condition": `type == "gaffer.test.egress"`,
		"actions": []map[string]any{{"type": "webhook", "url": rc.URL}}})
	open.publish(map[string]any{"id": "e2", "source": "/" + runID(), "type": "gaffer.test.egress"})
	platformtest.Eventually(t, "delivered with loopback allowed", func() bool { return rc.count() == 1 })
}

// TestWebhookErrorQuotesAShortExcerpt: a failing target's answer reaches
// the dead letter only as a short, printable excerpt.
func TestWebhookErrorQuotesAShortExcerpt(t *testing.T) {
	ts := start(t, platformtest.Backend{}, "")
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte("\x1b[31m" + strings.Repeat("internal detail ", 1000)))
	}))
	defer target.Close()
	ts.createRule(map[string]any{"name": "bad", "condition": `true`,
		"actions": []map[string]any{{"type": "webhook", "url": target.URL}}})
	ts.publish(map[string]any{"id": "x1", "source": "/" + runID(), "type": "gaffer.test"})
	var page httpapi.Page[events.DeadLetter]
	platformtest.Eventually(t, "dead letter", func() bool {
		must(t, ts.do("GET", "/api/v1/events/deadletters", nil), 200).JSON(t, &page)
		return len(page.Items) == 1
	})
	if e := page.Items[0].Error; len(e) > 200 || strings.ContainsRune(e, '\x1b') || !strings.Contains(e, "HTTP 400") {
		t.Fatalf("dead letter error of %d bytes: %q", len(e), e)
	}
}
