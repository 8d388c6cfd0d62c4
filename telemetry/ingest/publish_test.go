package ingest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/telemetry/prom"
	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

func openDB(t testing.TB) *tsdb.DB {
	t.Helper()
	o := tsdb.DefaultOptions()
	o.CompactInterval = -1
	db, err := tsdb.Open(t.TempDir(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func publish(t *testing.T, p *Publisher, body string) (int, FailureMessage, string) {
	t.Helper()
	w := httptest.NewRecorder()
	if err := p.ServePublish(w, httptest.NewRequest("POST", "/api/v1/publish", strings.NewReader(body))); err != nil {
		t.Fatalf("publish: %v", err)
	}
	var m FailureMessage
	json.Unmarshal(w.Body.Bytes(), &m)
	return w.Code, m, w.Body.String()
}

func TestPublish(t *testing.T) {
	db := openDB(t)
	now := time.Now()
	p := &Publisher{Storage: prom.DBAppendable{DB: db}, Rules: DefaultAtlasRules, MaxAge: time.Minute, Now: func() time.Time { return now }}
	ts := now.UnixMilli()
	code, _, body := publish(t, p, fmt.Sprintf(`{"tags":{"nf.app":"www","nf.cluster":"www-main"},
		"metrics":[{"tags":{"name":"sps","country":"US"},"timestamp":%d,"value":42.5},
		           {"tags":{"name":"sps","country":"BR"},"start":%d,"values":"NaN","ignored":1}]}`, ts, ts))
	if code != http.StatusOK {
		t.Fatalf("valid payload: %d %s", code, body)
	}
	q, _ := db.Querier(ts, ts)
	set := q.Select(nil, tsdb.MustMatcher(tsdb.MatchEqual, tsdb.MetricName, "sps"))
	n := 0
	for set.Next() {
		if set.At().Labels().Get("nf.app") != "www" {
			t.Errorf("common tags not merged: %s", set.At().Labels())
		}
		n++
	}
	q.Close()
	if n != 2 {
		t.Fatalf("%d series stored, want 2", n)
	}

	// One bad datapoint of two: 202, partial, the good one stored.
	code, m, body := publish(t, p, fmt.Sprintf(`{"metrics":[{"tags":{"name":"ok","kk":"v"},"timestamp":%d,"value":1},
		{"tags":{"name":"bad","kk":"a b"},"timestamp":%d,"value":1}]}`, ts, ts))
	if code != http.StatusAccepted || m.Type != "partial" || m.ErrorCount != 1 || !strings.Contains(m.Message[0], "invalid characters in value: kk = [a b]") {
		t.Fatalf("partial: %d %s", code, body)
	}
	// All bad: 400 with Atlas's error message, at most five reasons.
	var dps []string
	for i := 0; i < 7; i++ {
		dps = append(dps, fmt.Sprintf(`{"tags":{"k":"v%d"},"timestamp":%d,"value":1}`, i, ts))
	}
	code, m, body = publish(t, p, `{"metrics":[`+strings.Join(dps, ",")+`]}`)
	if code != http.StatusBadRequest || m.Type != "error" || m.ErrorCount != 7 || len(m.Message) != 5 || !strings.HasPrefix(m.Message[0], "missing key 'name'") {
		t.Fatalf("all bad: %d %s", code, body)
	}
	for _, c := range []struct{ tags, want string }{
		{`{"name":"x"}`, "value too short: name = [x] (1 < 2)"},
		{`{"name":"xx","kk":""}`, "value too short: kk = [] (0 < 1)"},
		{`{"name":"xx","a":"b"}`, "key too short: a (1 < 2)"},
		{`{"name":"xx","nf.foo":"b"}`, "invalid key for reserved prefix 'nf.': nf.foo"},
		{`{"name":"xx","atlas.dstype":"gauge","nf.app":"a"}`, ""},
	} {
		var tags map[string]string
		json.Unmarshal([]byte(c.tags), &tags)
		if got := DefaultAtlasRules.Validate(tags); got != c.want {
			t.Errorf("%s: %q, want %q", c.tags, got, c.want)
		}
	}
	many := map[string]string{"name": "xx"}
	for i := 0; i < 20; i++ {
		many[fmt.Sprintf("k%02d", i)] = "v"
	}
	if got := DefaultAtlasRules.Validate(many); got != "too many user tags: 21 > 20" {
		t.Errorf("21 user tags: %q", got)
	}
	// Too old and from the future, as in Atlas.
	code, m, _ = publish(t, p, fmt.Sprintf(`{"metrics":[{"tags":{"name":"old"},"timestamp":%d,"value":1},
		{"tags":{"name":"new"},"timestamp":%d,"value":1}]}`, ts-120_000, ts+120_000))
	if code != 400 || !strings.HasPrefix(m.Message[0], "data is too old") || !strings.HasPrefix(m.Message[1], "data is from future") {
		t.Fatalf("age: %d %+v", code, m)
	}
	for _, bad := range []string{``, `{`, `{"metrics":[{"tags":{"name":"x"},"value":1}]}`, `{"metrics":[]}`} {
		code, _, body := publish(t, p, bad)
		if code != 400 || !strings.Contains(body, `"type":"error"`) {
			t.Errorf("%q: %d %s", bad, code, body)
		}
	}
}

func FuzzDecodePublish(f *testing.F) {
	f.Add([]byte(`{"tags":{"nf.app":"www"},"metrics":[{"tags":{"name":"sps"},"timestamp":1,"value":42.5}]}`))
	f.Add([]byte(`{"metrics":[{"tags":{"name":"sps"},"start":1,"values":["NaN"]}]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		dps, err := DecodePublish(b)
		if err != nil {
			return
		}
		for _, dp := range dps {
			if dp.Timestamp < 0 {
				t.Fatalf("negative timestamp accepted: %+v", dp)
			}
			if DefaultAtlasRules.Validate(dp.Tags) == "" {
				if ls := AtlasLabels(dp.Tags); ls.Get(tsdb.MetricName) == "" {
					t.Fatalf("valid datapoint without a metric name: %+v", dp)
				}
			}
		}
	})
}
