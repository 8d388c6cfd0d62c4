package events_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/events"
	"github.com/gaffer-sre/gaffer/internal/platform/jobs"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
)

func TestReplay(t *testing.T) {
	platformtest.EachBackend(t, func(t *testing.T, b platformtest.Backend) {
		ts := start(t, b, "")
		src := "/" + runID()
		for i := 0; i < 30; i++ {
			sev := "warning"
			if i%3 == 0 {
				sev = "critical"
			}
			ts.publish(map[string]any{"id": fmt.Sprint("e", i), "source": src, "type": "gaffer.alerting.firing",
				"data": map[string]any{"severity": sev, "alert": fmt.Sprint("a", i%2)}})
		}
		ts.drained()
		rc := newReceiver(t)
		// Created after the events: a replay shows what it would have
		// done, and does not do it.
		r := ts.createRule(map[string]any{"name": "critical", "condition": `source == "` + src + `" && data.severity == "critical"`,
			"actions": []map[string]any{
				{"type": "suppress", "key": "data.alert", "window": "1h", "limit": 2},
				{"type": "webhook", "url": rc.URL},
				{"type": "publish", "event_type": "gaffer.incident.opened", "data": `{"alert": data.alert}`}}})
		var res events.ReplayResult
		must(t, ts.do("POST", "/api/v1/events/rules/"+r.ID+"/replay", map[string]any{"since": "1h"}), 200).JSON(t, &res)
		if res.Scanned != 30 || res.Matched != 10 || res.Truncated || len(res.Matches) != 10 {
			t.Fatalf("replay: scanned %d matched %d truncated %v (%d kept)", res.Scanned, res.Matched, res.Truncated, len(res.Matches))
		}
		outcomes := map[string]int{}
		for _, m := range res.Matches {
			outcomes[m.Actions[0].Outcome+"/"+m.Actions[1].Outcome]++
		}
		// Two alerts, two events of each pass, the rest are suppressed.
		if outcomes["would pass/would run"] != 4 || outcomes["would suppress/skipped (suppressed)"] != 6 {
			t.Fatalf("outcomes %v", outcomes)
		}
		if d := string(res.Matches[0].Actions[2].Detail); !strings.Contains(d, `"type":"gaffer.incident.opened"`) {
			t.Fatalf("publish detail %s", d)
		}
		// A bounded scan says so.
		must(t, ts.do("POST", "/api/v1/events/rules/"+r.ID+"/replay", map[string]any{"since": "1h", "max_events": 5}), 200).JSON(t, &res)
		if res.Scanned != 5 || !res.Truncated {
			t.Fatalf("bounded replay: %+v", res)
		}
		// An unsaved rule, as the editor tries it.
		must(t, ts.do("POST", "/api/v1/events/replay", map[string]any{"since": "1h",
			"rule": map[string]any{"name": "try", "condition": `source == "` + src + `" && data.alert == "a1"`,
				"actions": []map[string]any{{"type": "webhook", "url": rc.URL}}}}), 200).JSON(t, &res)
		if res.Matched != 15 {
			t.Fatalf("unsaved rule matched %d, want 15", res.Matched)
		}
		// A window before the events matches nothing.
		must(t, ts.do("POST", "/api/v1/events/rules/"+r.ID+"/replay", map[string]any{"since": "3h", "until": "2h"}), 200).JSON(t, &res)
		if res.Matched != 0 {
			t.Fatalf("old window matched %d", res.Matched)
		}
		must(t, ts.do("POST", "/api/v1/events/rules/"+r.ID+"/replay", map[string]any{"since": "1h", "until": "2h"}), 400)
		// A replay runs in its request and neither publishes nor
		// enqueues: had it acted, the receiver would have been called
		// or a delivery job queued by the time the calls returned.
		if rc.count() != 0 {
			t.Fatalf("a dry run delivered %d webhooks", rc.count())
		}
		if list, err := ts.Deps().Jobs.List(t.Context(), jobs.ListFilter{Kinds: []string{events.WebhookJob}}); err != nil || len(list.Jobs) != 0 {
			t.Fatalf("a dry run queued webhook deliveries: %+v %v", list.Jobs, err)
		}
	})
}

func TestTail(t *testing.T) {
	ts := start(t, platformtest.Backend{}, "")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+"/api/v1/events/stream?type=gaffer.test.*&filter=data.n+%3E+1", nil)
	req.Header.Set("Authorization", "Bearer "+ts.Token(events.ReadScope))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("content type %s", resp.Header.Get("Content-Type"))
	}
	lines := bufio.NewScanner(resp.Body)
	lines.Scan() // the opening comment: the subscription is in place
	ts.publish(map[string]any{"id": "t1", "source": "/t", "type": "gaffer.test.tail", "data": map[string]any{"n": 1}})
	ts.publish(map[string]any{"id": "t2", "source": "/t", "type": "other.type", "data": map[string]any{"n": 5}})
	ts.publish(map[string]any{"id": "t3", "source": "/t", "type": "gaffer.test.tail", "data": map[string]any{"n": 2}})
	var got []string
	for lines.Scan() {
		if data, ok := strings.CutPrefix(lines.Text(), "data: "); ok {
			got = append(got, parseEvent(t, []byte(data)).ID)
			break
		}
	}
	if strings.Join(got, ",") != "t3" {
		t.Fatalf("tail got %v, want only t3", got)
	}
	// An open tail does not hold up the shutdown (which fails when
	// requests outlast its timeout).
	if err := ts.Shutdown(); err != nil {
		t.Fatalf("shutdown with a tail open: %v", err)
	}
}
