package selfmetrics

import (
	"strings"
	"testing"
	"time"
)

func TestRecordMeasureExpose(t *testing.T) {
	r := New(map[string]string{"nf.app": "gaffer"})
	c := r.Registry.Counter("gaffer.http.requests", map[string]string{"method": "GET", "route": "api.v1.x", "status": "200"})
	for i := 0; i < 50; i++ {
		c.Increment()
	}
	r.Registry.Timer("gaffer.jobs.duration", map[string]string{"kind": "noop"}).Record(250 * time.Millisecond)
	r.Registry.Gauge("gaffer.queue.depth", nil).Set(7)

	series := r.Measure(time.Now())
	if len(series) == 0 {
		t.Fatal("no measurements")
	}
	var sb strings.Builder
	if err := r.WriteExposition(&sb); err != nil {
		t.Fatal(err)
	}
	out := sb.String()
	for _, want := range []string{
		"# TYPE gaffer_http_requests gauge",
		`gaffer_http_requests{`,
		`route="api.v1.x"`,
		`statistic="count"`,
		` 5 `, // 50 increments over a 10 s step: 5 per second
		`gaffer_queue_depth{`,
		`statistic="gauge"`,
		`gaffer_jobs_duration{`,
		`statistic="totalTime"`,
		`nf_app="gaffer"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("exposition lacks %q:\n%s", want, out)
		}
	}
	// The next step without updates has no counter rate.
	r.Measure(time.Now().Add(Step))
	sb.Reset()
	r.WriteExposition(&sb)
	if strings.Contains(sb.String(), "gaffer_http_requests{") {
		t.Errorf("idle counter still exposed:\n%s", sb.String())
	}
}
