package graph

import (
	"bytes"
	"context"
	"image/png"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/clocktest"
	"github.com/gaffer-sre/gaffer/telemetry/atlas/stack"
)

func render(t *testing.T, src stack.Source, query string) string {
	t.Helper()
	v, err := url.ParseQuery(query)
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParseParams(v, time.UTC)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	req, err := p.Request(clocktest.Base)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	res, err := (&stack.Evaluator{Source: src}).Evaluate(context.Background(), req)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	var b bytes.Buffer
	if err := Write(&b, p, res); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return b.String()
}

// TestOutputFormatExamples reproduces the examples of Atlas's output
// formats page (docs/api/graph/outputs.md).
func TestOutputFormatExamples(t *testing.T) {
	src := stack.NewMemSource(60_000)
	base := "e=2012-01-01T09:00&q=hourOfDay,:time,minuteOfHour,:time,NaN&s=e-5m&tz=UTC&format="
	want := map[string]string{
		"csv": `"timestamp","hourOfDay","minuteOfHour","NaN"
2012-01-01T08:56:00Z,8.000000,56.000000,NaN
2012-01-01T08:57:00Z,8.000000,57.000000,NaN
2012-01-01T08:58:00Z,8.000000,58.000000,NaN
2012-01-01T08:59:00Z,8.000000,59.000000,NaN
2012-01-01T09:00:00Z,9.000000,0.000000,NaN
`,
		"txt": "\"timestamp\"\t\"hourOfDay\"\t\"minuteOfHour\"\t\"NaN\"\n" +
			"2012-01-01T08:56:00Z\t8.000000\t56.000000\tNaN\n2012-01-01T08:57:00Z\t8.000000\t57.000000\tNaN\n" +
			"2012-01-01T08:58:00Z\t8.000000\t58.000000\tNaN\n2012-01-01T08:59:00Z\t8.000000\t59.000000\tNaN\n" +
			"2012-01-01T09:00:00Z\t9.000000\t0.000000\tNaN\n",
		"json": `{"start":1325408160000,"step":60000,"legend":["hourOfDay","minuteOfHour","NaN"],` +
			`"metrics":[{"atlas.offset":"0w","name":"hourOfDay"},{"atlas.offset":"0w","name":"minuteOfHour"},{"atlas.offset":"0w","name":"NaN"}],` +
			`"values":[[8.0,56.0,NaN],[8.0,57.0,NaN],[8.0,58.0,NaN],[8.0,59.0,NaN],[9.0,0.0,NaN]],"notices":[]}` + "\n",
		"std.json": `{"start":1325408160000,"step":60000,"legend":["hourOfDay","minuteOfHour","NaN"],` +
			`"metrics":[{"atlas.offset":"0w","name":"hourOfDay"},{"atlas.offset":"0w","name":"minuteOfHour"},{"atlas.offset":"0w","name":"NaN"}],` +
			`"values":[[8.0,56.0,"NaN"],[8.0,57.0,"NaN"],[8.0,58.0,"NaN"],[8.0,59.0,"NaN"],[9.0,0.0,"NaN"]],"notices":[]}` + "\n",
		"stats.json": `{"start":1325408160000,"end":1325408460000,"step":60000,"legend":["hourOfDay","minuteOfHour","NaN"],` +
			`"metrics":[{"atlas.offset":"0w","name":"hourOfDay"},{"atlas.offset":"0w","name":"minuteOfHour"},{"atlas.offset":"0w","name":"NaN"}],` +
			`"stats":[{"count":5,"avg":8.2,"total":41.0,"max":9.0,"min":8.0,"last":9.0},` +
			`{"count":5,"avg":46.0,"total":230.0,"max":59.0,"min":0.0,"last":0.0},` +
			`{"count":0,"avg":NaN,"total":NaN,"max":NaN,"min":NaN,"last":NaN}],"notices":[]}` + "\n",
	}
	for format, w := range want {
		got := render(t, src, base+url.QueryEscape(format))
		if got != w {
			t.Errorf("format %s:\n%s\nwant\n%s", format, got, w)
		}
	}
	img := render(t, src, base+"png")
	if _, err := png.Decode(strings.NewReader(img)); err != nil {
		t.Fatalf("png: %v", err)
	}
}

func TestParamErrors(t *testing.T) {
	for q, want := range map[string]string{
		"":                     "q: the expression is missing",
		"q=a&format=gif":       "format",
		"q=a&w=5":              "w: want a number of pixels",
		"q=a&tz=Nowhere/Never": "unknown time zone",
		"q=a&step=fast":        "step",
		"q=a&scale=cubic":      "scale",
		"q=a&l=low":            "l: want a number",
		"q=a&no_legend=maybe":  "no_legend",
	} {
		v, _ := url.ParseQuery(q)
		_, err := ParseParams(v, time.UTC)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", q, err, want)
		}
	}
}
