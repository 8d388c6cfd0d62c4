package alerting

import (
	"slices"
	"strings"
	"testing"
)

func TestParseMatchers(t *testing.T) {
	ms, err := ParseMatchers(`{alertname="High Latency", job=~"api|web"}`, `severity!=info`, `region!~"eu-.*"`)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`alertname="High Latency"`, `job=~"api|web"`, `severity!="info"`, `region!~"eu-.*"`}
	if got := ms.Strings(); !slices.Equal(got, want) {
		t.Fatalf("parsed %v, want %v", got, want)
	}
	ls := map[string]string{"alertname": "High Latency", "job": "api", "severity": "page", "region": "us-east-1"}
	if !ms.Matches(ls) {
		t.Errorf("%v does not match %v", want, ls)
	}
	ls["job"] = "api2" // anchored
	if ms.Matches(ls) {
		t.Errorf("regex is not anchored")
	}
	// A missing label is the empty string.
	if m, _ := ParseMatchers(`team=""`); !m.Matches(map[string]string{}) {
		t.Error(`team="" does not match an alert without team`)
	}
	for _, bad := range []string{`=x`, `a`, `a=="b"`, `a="b`, `a=~"("`, `{a="b"`, `a="b",`, `a="b" c="d"`, `a=b"c`} {
		if _, err := ParseMatchers(bad); err == nil {
			t.Errorf("ParseMatchers(%q) accepted", bad)
		}
	}
}

// FuzzParseMatchers checks that whatever parses formats back to the same
// matchers.
func FuzzParseMatchers(f *testing.F) {
	for _, s := range []string{`{alertname="X", job=~"api|web"}`, `a!=b`, `a!~"\\d+"`, `x="a,b}"`, `é="ü"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ms, err := ParseMatchers(s)
		if err != nil {
			return
		}
		again, err := ParseMatchers(strings.Join(ms.Strings(), ","))
		if err != nil {
			t.Fatalf("%q parsed to %v, which does not parse: %v", s, ms.Strings(), err)
		}
		if !slices.Equal(again.Strings(), ms.Strings()) {
			t.Fatalf("%q: %v then %v", s, ms.Strings(), again.Strings())
		}
	})
}
