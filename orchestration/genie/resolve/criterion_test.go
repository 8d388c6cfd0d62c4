package resolve

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseCriterion(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Criterion
		err  string
	}{
		{in: "type:spark, ver:2.4", want: Criterion{Tags: []string{"type:spark", "ver:2.4"}}},
		{in: "ID=c1/NAME=prod/VERSION=2/STATUS=up/TAGS=b,a,a", want: Criterion{ID: "c1", Name: "prod", Version: "2", Status: "UP", Tags: []string{"a", "b"}}},
		{in: "tags=sched:sla/name=x", want: Criterion{Name: "x", Tags: []string{"sched:sla"}}},
		{in: "", err: "empty"},
		{in: "a,,b", err: "empty tag"},
		{in: "NAME=", err: "NAME: value must not be empty"},
		{in: "NAME=a/NAME=b", err: "NAME given twice"},
		{in: "COLOR=red", err: `unknown key "COLOR"`},
		{in: "NAME=a/b", err: `component "b": want KEY=value`},
		{in: "ID=a,b", err: "must not contain ','"},
	} {
		got, err := ParseCriterion(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseCriterion(%q) = %v, want error containing %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseCriterion(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestMerge(t *testing.T) {
	m, _, ok := Merge(Criterion{Name: "a", Tags: []string{"x"}}, Criterion{Status: "UP", Tags: []string{"y", "x"}})
	if !ok || !reflect.DeepEqual(m, Criterion{Name: "a", Status: "UP", Tags: []string{"x", "y"}}) {
		t.Fatalf("merge = %+v %v", m, ok)
	}
	if _, why, ok := Merge(Criterion{Version: "1"}, Criterion{Version: "2"}); ok || !strings.Contains(why, `version "1"`) {
		t.Fatalf("conflicting versions merged: %q", why)
	}
}

// FuzzParseCriterion checks that whatever parses renders to a form that
// parses to the same criterion.
func FuzzParseCriterion(f *testing.F) {
	for _, s := range []string{"a,b", "ID=1/NAME=n/VERSION=v/STATUS=s/TAGS=t1,t2", "tags=x", "=", "/", "NAME=a/NAME=b", " , "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCriterion(s)
		if err != nil {
			return
		}
		if c.IsEmpty() {
			t.Fatalf("%q parsed to an empty criterion", s)
		}
		again, err := ParseCriterion(c.String())
		if err != nil {
			t.Fatalf("%q rendered as %q, which does not parse: %v", s, c.String(), err)
		}
		if !reflect.DeepEqual(again, c) {
			t.Fatalf("%q: %+v rendered as %q parses to %+v", s, c, c.String(), again)
		}
	})
}
