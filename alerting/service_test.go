package alerting_test

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/gaffer-sre/gaffer/alerting"
	"github.com/gaffer-sre/gaffer/internal/platform/bus"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/telemetry/metrics"
	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

// gauge writes the value of a series every 100ms until the test ends.
type gauge struct {
	mu  sync.Mutex
	val map[string]float64
}

func (g *gauge) set(host string, v float64) {
	g.mu.Lock()
	g.val[host] = v
	g.mu.Unlock()
}

func startGauge(t *testing.T, srv *platformtest.Server, name string, hosts ...string) *gauge {
	t.Helper()
	g := &gauge{val: map[string]float64{}}
	for _, h := range hosts {
		g.val[h] = 0
	}
	svc, _ := srv.Deps().Lookup("metrics")
	db := svc.(*metrics.Service).DB()
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			app := db.Appender()
			g.mu.Lock()
			for h, v := range g.val {
				app.Append(0, tsdb.FromStrings("__name__", name, "host", h), time.Now().UnixMilli(), v)
			}
			g.mu.Unlock()
			app.Commit()
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	t.Cleanup(func() { close(stop); <-done })
	return g
}

// events collects the notifications published on the bus.
type events struct {
	mu  sync.Mutex
	evs []*bus.Event
}

func collect(t *testing.T, srv *platformtest.Server) *events {
	t.Helper()
	e := &events{}
	sub, err := srv.Deps().Bus.Conn.Subscribe("gaffer.alerting.>", func(m *nats.Msg) {
		ev, err := bus.ParseEvent(m.Data)
		if err != nil {
			return
		}
		e.mu.Lock()
		e.evs = append(e.evs, ev)
		e.mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sub.Unsubscribe() })
	return e
}

func (e *events) list() []*bus.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]*bus.Event(nil), e.evs...)
}

// payload is the part of Alertmanager's webhook format the tests read.
type payload struct {
	Status string `json:"status"`
	Alerts []struct {
		Status      string            `json:"status"`
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
	} `json:"alerts"`
}

func decode(t *testing.T, ev *bus.Event) payload {
	t.Helper()
	var p payload
	if err := json.Unmarshal(ev.Data, &p); err != nil {
		t.Fatalf("decode %s: %v", ev.Data, err)
	}
	return p
}

// TestRuleLifecycleOverTheAPI creates rules, fires, silences and resolves
// alerts and reads their history, on each database.
func TestRuleLifecycleOverTheAPI(t *testing.T) {
	platformtest.EachBackend(t, func(t *testing.T, b platformtest.Backend) {
		srv := platformtest.Start(t, platformtest.Options{Backend: b})
		tok := srv.Token(alerting.WriteScope)
		g := startGauge(t, srv, "queue_depth", "a", "b")
		evs := collect(t, srv)

		// Rejected at save time, with the parser's message.
		resp := srv.Do("POST", "/api/v1/alerting/rules", tok, map[string]any{"name": "Bad", "promql": "rate(queue_depth[5m]"})
		if resp.Status != 400 || resp.ErrorCode() != "invalid_rule" || !strings.Contains(string(resp.Body), "parse error") {
			t.Fatalf("bad promql: %d %s", resp.Status, resp.Body)
		}
		resp = srv.Do("POST", "/api/v1/alerting/rules", tok, map[string]any{"name": "Bad", "atlas": "name,x,:eq,:frob"})
		if resp.Status != 400 || !strings.Contains(string(resp.Body), ":frob") {
			t.Fatalf("bad atlas: %d %s", resp.Status, resp.Body)
		}

		rule := map[string]any{"name": "QueueDeep", "promql": "queue_depth > 10", "interval": "1s", "for": "2s",
			"labels":       map[string]string{"severity": "page"},
			"annotations":  map[string]string{"summary": "{{ $labels.host }} holds {{ $value }} items"},
			"notification": map[string]any{"group_by": []string{"alertname"}, "group_wait": "100ms", "group_interval": "500ms"}}
		var created alerting.RuleView
		resp = srv.Do("POST", "/api/v1/alerting/rules", tok, rule)
		if resp.Status != 201 {
			t.Fatalf("create: %d %s", resp.Status, resp.Body)
		}
		resp.JSON(t, &created)
		// A rule failing at run time shows an error and does not stop the others.
		var broken alerting.RuleView
		srv.Do("POST", "/api/v1/alerting/rules", tok, map[string]any{"name": "Broken", "interval": "1s",
			"promql": `queue_depth + on() group_left() queue_depth`}).JSON(t, &broken)

		g.set("a", 50)
		platformtest.Eventually(t, "the alert to fire and notify", func() bool {
			for _, ev := range evs.list() {
				if ev.Type == alerting.FiringEvent {
					return true
				}
			}
			return false
		})
		var alerts []alerting.Alert
		srv.Do("GET", "/api/v1/alerting/alerts?state=firing", tok, nil).JSON(t, &alerts)
		if len(alerts) != 1 || alerts[0].Labels["host"] != "a" || alerts[0].Annotations["summary"] != "a holds 50 items" {
			t.Fatalf("firing alerts: %+v", alerts)
		}
		p := decode(t, evs.list()[0])
		if p.Status != "firing" || len(p.Alerts) != 1 || p.Alerts[0].Labels["severity"] != "page" {
			t.Errorf("notification %+v", p)
		}

		var view alerting.RuleView
		platformtest.Eventually(t, "the broken rule's error", func() bool {
			srv.Do("GET", "/api/v1/alerting/rules/"+broken.ID, tok, nil).JSON(t, &view)
			return view.State == "error" && strings.Contains(view.Health.Error, "duplicate series")
		})
		page := srv.Do("GET", "/alerting", tok, nil)
		if !strings.Contains(string(page.Body), "duplicate series") || !strings.Contains(string(page.Body), "QueueDeep") {
			t.Errorf("rules page lacks the error or the rule: %s", page.Body)
		}

		// Silence host b, then b goes over: it fires but nobody is told.
		resp = srv.Do("POST", "/api/v1/alerting/silences", tok, map[string]any{"matchers": []string{`host="b"`}, "duration": "1h", "comment": "maintenance"})
		if resp.Status != 201 {
			t.Fatalf("silence: %d %s", resp.Status, resp.Body)
		}
		seen := len(evs.list())
		g.set("b", 70)
		platformtest.Eventually(t, "b to fire", func() bool {
			srv.Do("GET", "/api/v1/alerting/alerts?state=firing", tok, nil).JSON(t, &alerts)
			return len(alerts) == 2
		})
		for _, a := range alerts {
			if (a.Labels["host"] == "b") != (len(a.Silenced) == 1) {
				t.Errorf("alert %v silenced by %v", a.Labels, a.Silenced)
			}
		}

		// a recovers: resolved is notified, and the history has the states.
		g.set("a", 1)
		platformtest.Eventually(t, "a resolved notification", func() bool {
			for _, ev := range evs.list() {
				if ev.Type == alerting.ResolvedEvent || strings.Contains(string(ev.Data), `"status":"resolved"`) {
					return true
				}
			}
			return false
		})
		// a and b are one group (by alertname), whose notifications go out
		// in order: had b been notified, it would be in a notification sent
		// before or with a's resolution.
		for _, ev := range evs.list()[seen:] {
			for _, a := range decode(t, ev).Alerts {
				if a.Labels["host"] == "b" {
					t.Errorf("silenced alert notified: %+v", a)
				}
			}
		}
		// Transitions are stored by the saver, apart from the notification:
		// wait for the resolution to be stored too.
		var states []string
		historyOfA := func() string {
			var hist []alerting.Transition
			srv.Do("GET", "/api/v1/alerting/rules/"+created.ID+"/history", tok, nil).JSON(t, &hist)
			states = states[:0]
			for _, h := range hist {
				if h.Labels["host"] == "a" {
					states = append(states, string(h.To))
				}
			}
			return strings.Join(states, ",")
		}
		platformtest.Eventually(t, "a's resolution in the history", func() bool { return len(historyOfA()) >= len("pending,firing,resolved") })
		if got := historyOfA(); got != "pending,firing,resolved" {
			t.Errorf("history of a: %v", states)
		}
		// The rule's page draws its chart and timeline.
		page = srv.Do("GET", "/alerting/rules/"+created.ID, tok, nil)
		for _, want := range []string{"data-alert-chart", "al-seg firing", "resolved"} {
			if !strings.Contains(string(page.Body), want) {
				t.Errorf("rule page lacks %q", want)
			}
		}
		if resp := srv.Do("DELETE", "/api/v1/alerting/rules/"+broken.ID, tok, nil); resp.Status != 204 {
			t.Errorf("delete: %d", resp.Status)
		}
	})
}
