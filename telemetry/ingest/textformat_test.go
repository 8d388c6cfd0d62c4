package ingest

import (
	"errors"
	"io"
	"math"
	"strings"
	"testing"
	"time"
)

func readAll(t *testing.T, r SampleReader) ([]ImportSample, error) {
	t.Helper()
	var out []ImportSample
	for {
		s, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, s)
	}
}

func TestTextReader(t *testing.T) {
	now := time.UnixMilli(1_700_000_000_000)
	in := `# HELP http_requests_total Requests.
# TYPE http_requests_total counter
http_requests_total{method="post",code="200"} 1027 1395066363000
http_requests_total{method="post",code="400",} 3 1395066363000
  metric_without_timestamp_and_labels 12.47
something_weird{problem="division by zero"} +Inf -3982045
msdos_file_access_time_seconds{path="C:\\DIR\\FILE.TXT",error="Cannot find file:\n\"FILE.TXT\""} 1.458255915e9
{"my.utf8.metric", "a.b"="c"} 1 1700000000.5
om_counter_total 5 1700000000 # {trace_id="abc"} 1 1700000000
# EOF
ignored 1
`
	got, err := readAll(t, NewTextReader(strings.NewReader(in), now))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		series string
		t      int64
		v      float64
	}{
		{`http_requests_total{code="200", method="post"}`, 1395066363000, 1027},
		{`http_requests_total{code="400", method="post"}`, 1395066363000, 3},
		{`metric_without_timestamp_and_labels{}`, now.UnixMilli(), 12.47},
		{`something_weird{problem="division by zero"}`, -3982045000, math.Inf(1)},
		{`msdos_file_access_time_seconds{error="Cannot find file:\n\"FILE.TXT\"", path="C:\\DIR\\FILE.TXT"}`, now.UnixMilli(), 1.458255915e9},
		{`my.utf8.metric{a.b="c"}`, 1700000000500, 1},
		{`om_counter_total{}`, 1700000000000, 5},
	}
	if len(got) != len(want) {
		t.Fatalf("%d samples, want %d: %v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.Labels.String() != w.series || g.T != w.t || g.V != w.v {
			t.Errorf("sample %d = %s %d %v, want %s %d %v", i, g.Labels, g.T, g.V, w.series, w.t, w.v)
		}
	}
	for _, bad := range []string{"x{a=\"b\" 1", "x{a=b} 1", "x", "x abc", "x 1 2 3", "{a=\"b\"} 1", "x{a=\"1\",a=\"2\"} 1"} {
		if _, err := readAll(t, NewTextReader(strings.NewReader(bad), now)); err == nil || !strings.Contains(err.Error(), "line 1") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestCSVReader(t *testing.T) {
	in := "timestamp,metric,host,dc,value\n2023-11-14T22:13:20Z,temp,h1,,21.5\n1700000060,temp,h1,x,22\n1700000120000,temp,h2,x,NaN\n"
	got, err := readAll(t, NewCSVReader(strings.NewReader(in)))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].Labels.String() != `temp{host="h1"}` || got[0].T != 1700000000000 || got[0].V != 21.5 ||
		got[1].T != 1700000060000 || got[2].T != 1700000120000 || !math.IsNaN(got[2].V) || got[2].Labels.String() != `temp{dc="x", host="h2"}` {
		t.Fatalf("%+v", got)
	}
	for _, c := range []struct{ in, want string }{
		{"", "empty file"},
		{"a,b\n", "missing column(s) timestamp, value, metric"},
		{"timestamp,metric,value\nnope,x,1\n", "line 2: timestamp"},
		{"timestamp,metric,value\n1,x,one\n", "line 2: value"},
		{"timestamp,metric,value\n1,,1\n", "empty metric name"},
	} {
		if _, err := readAll(t, NewCSVReader(strings.NewReader(c.in))); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %s", c.in, err, c.want)
		}
	}
}

func FuzzParseTextLine(f *testing.F) {
	for _, s := range []string{`http_requests_total{method="post",code="200"} 1027 1395066363000`, `{"a.b", c="d"} 1`, `x 1 # {a="b"} 1`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		s, err := ParseTextLine(line, 0)
		if err != nil {
			return
		}
		if s.Labels.Metric() == "" {
			t.Fatalf("%q parsed without a metric name", line)
		}
		for i := 1; i < len(s.Labels); i++ {
			if s.Labels[i-1].Name >= s.Labels[i].Name {
				t.Fatalf("%q: labels not sorted and unique: %v", line, s.Labels)
			}
		}
	})
}
