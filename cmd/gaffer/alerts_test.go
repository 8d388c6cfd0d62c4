package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/alerting"
	"github.com/gaffer-sre/gaffer/events"
	"github.com/gaffer-sre/gaffer/internal/platform/bus"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/telemetry/metrics"
	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

// writeNow stores the value of queue_depth{host} now, every 100ms until
// the test ends.
func writeNow(t *testing.T, srv *platformtest.Server, values map[string]float64) {
	t.Helper()
	svc, _ := srv.Deps().Lookup("metrics")
	db := svc.(*metrics.Service).DB()
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			app := db.Appender()
			for h, v := range values {
				app.Append(0, tsdb.FromStrings("__name__", "queue_depth", "host", h), time.Now().UnixMilli(), v)
			}
			app.Commit()
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	t.Cleanup(func() { close(stop); <-done })
}

// webhook records the CloudEvents posted to it.
type webhook struct {
	*httptest.Server
	mu  sync.Mutex
	evs []*bus.Event
}

func newWebhook(t *testing.T) *webhook {
	h := &webhook{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if ev, err := bus.ParseEvent(b); err == nil {
			h.mu.Lock()
			h.evs = append(h.evs, ev)
			h.mu.Unlock()
		}
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *webhook) received() []*bus.Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]*bus.Event(nil), h.evs...)
}

const cliRules = `rules:
- name: QueueDeep
  promql: queue_depth > 10
  interval: 1s
  labels: {severity: page}
  annotations: {summary: "{{ $labels.host }} is at {{ $value }}"}
  notification: {group_wait: 100ms, group_interval: 1s}
`

const cliPromRules = `groups:
- name: imported
  rules:
  - alert: QueueEmpty
    expr: queue_depth == 0
    for: 1m
`

// TestAlertsCLI drives rules, alerts and silences through the CLI, and
// follows a notification through an events rule to a webhook.
func TestAlertsCLI(t *testing.T) {
	srv := platformtest.Start(t, platformtest.Options{EgressAllow: platformtest.AllowLoopback}) // the webhook is on 127.0.0.1
	tok := srv.Token(alerting.WriteScope, events.WriteScope)
	run := func(stdin string, args ...string) string {
		t.Helper()
		out, err := runGaffer(t, stdin, append(args, "--server", srv.URL, "--token", tok)...)
		if err != nil {
			t.Fatalf("gaffer %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	hook := newWebhook(t)
	// The rule is written as docs/events.md writes them: the alert's
	// labels at the top of the event's data.
	rule := fmt.Sprintf(`{"name": "page the team", "condition": "type == \"gaffer.alerting.firing\" && data.severity == \"page\" && data.alertname == \"QueueDeep\"",
		"actions": [{"type": "webhook", "url": %q}]}`, hook.URL)
	run(rule, "events", "rules", "create", "-f", "-")

	if out, err := runGaffer(t, "name: Bad\npromql: sum(rate(x[5m])\n", "alerts", "rules", "apply", "-f", "-", "--server", srv.URL, "--token", tok); err == nil ||
		!strings.Contains(err.Error(), "parse error") {
		t.Fatalf("bad rule applied: %v %s", err, out)
	}
	if out := run(cliRules, "alerts", "rules", "apply", "-f", "-"); !strings.Contains(out, "created default/QueueDeep") {
		t.Fatalf("apply: %s", out)
	}
	if out := run(cliRules, "alerts", "rules", "apply", "-f", "-"); !strings.Contains(out, "updated default/QueueDeep") {
		t.Fatalf("apply again: %s", out)
	}
	prom := filepath.Join(t.TempDir(), "rules.yml")
	os.WriteFile(prom, []byte(cliPromRules), 0o600)
	if out := run("", "alerts", "rules", "import", "-f", prom); !strings.Contains(out, "created imported/QueueEmpty") {
		t.Fatalf("import: %s", out)
	}
	if out := run("", "alerts", "rules"); !strings.Contains(out, "QueueDeep") || !strings.Contains(out, "QueueEmpty") {
		t.Fatalf("rules: %s", out)
	}

	writeNow(t, srv, map[string]float64{"a": 42})
	platformtest.Eventually(t, "QueueDeep to fire", func() bool {
		return strings.Contains(run("", "alerts", "list", "--state", "firing"), "host=a severity=page")
	})
	platformtest.Eventually(t, "the notification at the webhook", func() bool { return len(hook.received()) > 0 })
	ev := hook.received()[0]
	var data struct {
		Status       string            `json:"status"`
		Severity     string            `json:"severity"`
		CommonLabels map[string]string `json:"commonLabels"`
		Alerts       []struct {
			Annotations map[string]string `json:"annotations"`
		} `json:"alerts"`
	}
	json.Unmarshal(ev.Data, &data)
	if ev.Type != alerting.FiringEvent || data.Status != "firing" || len(data.Alerts) != 1 || data.Alerts[0].Annotations["summary"] != "a is at 42" ||
		data.Severity != "page" || data.CommonLabels["severity"] != "page" {
		t.Fatalf("webhook got %s %s", ev.Type, ev.Data)
	}

	out := run("", "alerts", "silence", "alertname=QueueDeep", "host=~a|b", "--duration", "2h", "--comment", "draining")
	var id string
	if _, err := fmt.Sscanf(out, "created silence %s", &id); err != nil {
		t.Fatalf("silence: %s", out)
	}
	id = strings.TrimSuffix(id, ":")
	if out := run("", "alerts", "silence", "list"); !strings.Contains(out, id) || !strings.Contains(out, "draining") {
		t.Fatalf("silence list: %s", out)
	}
	var alerts []alerting.Alert
	json.Unmarshal([]byte(run("", "alerts", "list", "-o", "json")), &alerts)
	if len(alerts) != 1 || len(alerts[0].Silenced) != 1 || alerts[0].Silenced[0] != id {
		t.Fatalf("alerts after silence: %+v", alerts)
	}
	if out := run("", "alerts", "silence", "expire", id); !strings.Contains(out, "expired") {
		t.Fatalf("expire: %s", out)
	}
	if _, err := runGaffer(t, "", "alerts", "silence", "a=", "--comment", "x", "--server", srv.URL, "--token", tok); err == nil {
		t.Fatal("a silence matching every alert was accepted")
	}
}
