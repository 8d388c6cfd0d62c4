package genie

import (
	"reflect"
	"strings"
	"testing"
)

func TestSplitArgs(t *testing.T) {
	for in, want := range map[string][]string{
		`--class org.Foo  app.jar`:   {"--class", "org.Foo", "app.jar"},
		`-e 'select * from t' "a b"`: {"-e", "select * from t", "a b"},
		`a\ b "x\"y" ''`:             {"a b", `x"y`, ""},
		`   `:                        nil,
	} {
		got, err := SplitArgs(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("SplitArgs(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for in, want := range map[string]string{`'open`: "not closed", `"open`: "not closed", `end\`: "backslash"} {
		if _, err := SplitArgs(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("SplitArgs(%q) = %v, want an error containing %q", in, err, want)
		}
	}
}

// FuzzSplitArgs checks that JoinArgs renders what SplitArgs read into a
// line that splits back the same.
func FuzzSplitArgs(f *testing.F) {
	for _, s := range []string{`a b`, `'x y' "z\"w"`, `a\ b`, `''`, `"$HOME"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		args, err := SplitArgs(s)
		if err != nil {
			return
		}
		again, err := SplitArgs(JoinArgs(args))
		if err != nil || !reflect.DeepEqual(again, args) && !(len(args) == 0 && len(again) == 0) {
			t.Fatalf("%q split to %q, joined to %q, split to %q (%v)", s, args, JoinArgs(args), again, err)
		}
	})
}
