package events_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/gaffer-sre/gaffer/internal/platform/bus"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
)

func TestIngestModesAndList(t *testing.T) {
	platformtest.EachBackend(t, func(t *testing.T, b platformtest.Backend) {
		ts := start(t, b, "")
		// The external stream remembers IDs across tests for its
		// deduplication window: make sources unique to the run.
		run := runID()
		src := func(s string) string { return "/" + run + s }
		// Structured mode.
		res := ts.publish(map[string]any{"id": "s1", "source": src("/test"), "type": "gaffer.test.one",
			"subject": "o1", "data": map[string]any{"n": 1}})
		if res.Accepted != 1 || res.Events[0].Seq == 0 {
			t.Fatalf("structured: %+v", res)
		}
		// The same source and id again is recognised, not stored twice.
		again := ts.publish(map[string]any{"id": "s1", "source": src("/test"), "type": "gaffer.test.one"})
		if again.Accepted != 0 || !again.Events[0].Duplicate {
			t.Fatalf("repeat: %+v", again)
		}
		// Batch mode.
		batch := fmt.Sprintf(`[{"specversion":"1.0","id":"b1","source":%q,"type":"gaffer.test.two","data":{"n":2}},
			{"specversion":"1.0","id":"b2","source":%q,"type":"com.example.three","data":{"n":3}}]`, src("/test"), src("/other"))
		must(t, ts.DoWith("POST", "/api/v1/events", ts.token, "application/cloudevents-batch+json", batch), http.StatusAccepted)
		// Binary mode.
		req, _ := http.NewRequest("POST", ts.URL+"/api/v1/events", strings.NewReader(`{"n":4}`))
		req.Header.Set("Authorization", "Bearer "+ts.token)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Ce-Specversion", "1.0")
		req.Header.Set("Ce-Id", "bin1")
		req.Header.Set("Ce-Source", src("/test"))
		req.Header.Set("Ce-Type", "gaffer.test.binary")
		req.Header.Set("Ce-Region", "eu")
		req.Header.Set("Ce-Subject", "caf%C3%A9 %25")
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != http.StatusAccepted {
			t.Fatalf("binary mode: %v %v", resp.StatusCode, err)
		}
		resp.Body.Close()
		// Published on NATS by another system: part of the same stream.
		if _, err := ts.Deps().Bus.Publish(context.Background(), &bus.Event{ID: "n1", Source: src("/nats"),
			Type: "gaffer.test.nats", Data: json.RawMessage(`{"n":5}`)}); err != nil {
			t.Fatal(err)
		}

		var all []string
		platformtest.Eventually(t, "six events indexed", func() bool {
			l := ts.list("limit=10")
			all = nil
			for _, it := range l.Items {
				all = append(all, parseEvent(t, it.Event).ID)
			}
			return len(all) == 5
		})
		if got := strings.Join(all, ","); got != "n1,bin1,b2,b1,s1" {
			t.Fatalf("newest first: %s", got)
		}
		bin := ts.list("type=gaffer.test.binary").Items
		if len(bin) != 1 {
			t.Fatalf("type filter: %d events", len(bin))
		}
		if ev := parseEvent(t, bin[0].Event); string(ev.Data) != `{"n":4}` || ev.Extensions["region"] != "eu" || ev.Subject != "café %" {
			t.Fatalf("binary event stored as %s", bin[0].Event)
		}
		ids := func(l []string) string { return strings.Join(l, ",") }
		for q, want := range map[string]string{
			"type=gaffer.test.*":                       "n1,bin1,b1,s1",
			"source=" + src("/other"):                  "b2",
			"filter=data.n+%3E%3D+3":                   "n1,bin1,b2",
			"filter=subject+%3D%3D+%22o1%22&type=gaf*": "s1",
			"since=1h&until=2999-01-01T00:00:00Z":      "n1,bin1,b2,b1,s1",
			"until=2000-01-01T00:00:00Z":               "",
		} {
			var got []string
			for _, it := range ts.list(q).Items {
				got = append(got, parseEvent(t, it.Event).ID)
			}
			if ids(got) != want {
				t.Errorf("%s: %s, want %s", q, ids(got), want)
			}
		}
		// Cursor pagination walks every event once.
		var walked []string
		cursor := ""
		for i := 0; i < 10; i++ {
			l := ts.list("limit=2&cursor=" + cursor)
			for _, it := range l.Items {
				walked = append(walked, parseEvent(t, it.Event).ID)
			}
			if cursor = l.NextCursor; cursor == "" {
				break
			}
		}
		if ids(walked) != "n1,bin1,b2,b1,s1" {
			t.Fatalf("pages: %s", ids(walked))
		}
		first := ts.list("limit=1").Items[0]
		must(t, ts.do("GET", fmt.Sprintf("/api/v1/events/%d", first.Seq), nil), http.StatusOK)
		must(t, ts.do("GET", "/api/v1/events/999999", nil), http.StatusNotFound)
	})
}

func TestBadInput(t *testing.T) {
	ts := start(t, platformtest.Backend{}, "")
	// One invalid event rejects the whole batch, naming index and field.
	batch := `[{"specversion":"1.0","id":"ok1","source":"/t","type":"gaffer.test.bad"},
		{"specversion":"1.0","id":"ok2","source":"/t"},
		{"specversion":"1.0","id":"ok3","source":"/t","type":"gaffer.test.bad"}]`
	resp := must(t, ts.DoWith("POST", "/api/v1/events", ts.token, "application/cloudevents-batch+json", batch), http.StatusBadRequest)
	if !strings.Contains(string(resp.Body), "[1].type") || resp.ErrorCode() != "invalid_event" {
		t.Fatalf("batch error: %s", resp.Body)
	}
	for _, c := range []struct {
		ct, body, want string
		status         int
	}{
		{"application/cloudevents+json", `{"specversion":"1.0","id":"x","source":"/t","type":"t","time":"noon"}`, "time", 400},
		{"application/cloudevents+json", `{"specversion":"0.3","id":"x","source":"/t","type":"t"}`, "specversion", 400},
		{"application/cloudevents+json", `not json`, "event", 400},
		{"application/cloudevents-batch+json", `{}`, "batch", 400},
		{"application/cloudevents-batch+json", `[]`, "batch", 400},
		{"text/plain", `hello`, "Content-Type", 415},
	} {
		resp := ts.DoWith("POST", "/api/v1/events", ts.token, c.ct, c.body)
		if resp.Status != c.status || !strings.Contains(string(resp.Body), c.want) {
			t.Errorf("%s %s: %d %s, want %d naming %s", c.ct, c.body, resp.Status, resp.Body, c.status, c.want)
		}
	}
	for q, want := range map[string]string{
		"filter=data.x+%3D%3D":  "filter",
		"filter=type":           "filter: must evaluate to bool",
		"since=yesterday":       "since",
		"limit=-1":              "limit",
		"cursor=%25%25":         "cursor",
		"filter=nosuchvar+%3E1": "undeclared reference",
	} {
		resp := ts.do("GET", "/api/v1/events?"+q, nil)
		if resp.Status != 400 || !strings.Contains(string(resp.Body), want) {
			t.Errorf("list %s: %d %s, want 400 naming %s", q, resp.Status, resp.Body, want)
		}
	}
	// Nothing from the refused batch was stored.
	ts.publish(map[string]any{"id": "marker", "source": "/t", "type": "gaffer.test.marker"})
	platformtest.Eventually(t, "marker indexed", func() bool { return len(ts.list("type=gaffer.test.marker").Items) == 1 })
	if n := len(ts.list("type=gaffer.test.bad").Items); n != 0 {
		t.Fatalf("%d events of the refused batch were stored", n)
	}
	info, err := ts.Deps().Bus.Stream.Info(context.Background())
	if err != nil || info.State.Msgs != 1 {
		t.Fatalf("the stream holds %d events, want only the marker (%v)", info.State.Msgs, err)
	}
	// A reader may not publish.
	reader := ts.Token("events:read")
	if resp := ts.DoWith("POST", "/api/v1/events", reader, "application/cloudevents+json", `{}`); resp.Status != 403 {
		t.Fatalf("reader publishing: %d", resp.Status)
	}
}
