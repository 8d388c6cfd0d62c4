package jsonpatch

import (
	"encoding/json"
	"strings"
	"testing"
)

func run(t *testing.T, doc, patch string) (string, error) {
	t.Helper()
	var d any
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		t.Fatal(err)
	}
	ops, err := Parse([]byte(patch))
	if err != nil {
		return "", err
	}
	out, err := Apply(d, ops)
	if err != nil {
		return "", err
	}
	b, _ := json.Marshal(out)
	return string(b), nil
}

// TestApply follows the cases of RFC 6902's appendix, with values of our
// own.
func TestApply(t *testing.T) {
	for _, tc := range []struct{ doc, patch, want, err string }{
		{`{"a": 1}`, `[{"op": "add", "path": "/b", "value": "x"}]`, `{"a":1,"b":"x"}`, ""},
		{`{"tags": ["a", "c"]}`, `[{"op": "add", "path": "/tags/1", "value": "b"}]`, `{"tags":["a","b","c"]}`, ""},
		{`{"tags": ["a"]}`, `[{"op": "add", "path": "/tags/-", "value": "z"}]`, `{"tags":["a","z"]}`, ""},
		{`{"a": 1, "b": 2}`, `[{"op": "remove", "path": "/b"}]`, `{"a":1}`, ""},
		{`{"tags": ["a", "b", "c"]}`, `[{"op": "remove", "path": "/tags/1"}]`, `{"tags":["a","c"]}`, ""},
		{`{"status": "UP"}`, `[{"op": "replace", "path": "/status", "value": "OUT_OF_SERVICE"}]`, `{"status":"OUT_OF_SERVICE"}`, ""},
		{`{"a": {"x": 1}, "b": {}}`, `[{"op": "move", "from": "/a/x", "path": "/b/y"}]`, `{"a":{},"b":{"y":1}}`, ""},
		{`{"l": [1, 2, 3, 4]}`, `[{"op": "move", "from": "/l/1", "path": "/l/3"}]`, `{"l":[1,3,4,2]}`, ""},
		{`{"a": [1]}`, `[{"op": "copy", "from": "/a", "path": "/b"}, {"op": "add", "path": "/b/-", "value": 2}]`, `{"a":[1],"b":[1,2]}`, ""},
		{`{"a": {"b": [1, "x"]}}`, `[{"op": "test", "path": "/a/b", "value": [1, "x"]}]`, `{"a":{"b":[1,"x"]}}`, ""},
		{`{"a/b": 1, "m~n": 2}`, `[{"op": "remove", "path": "/a~1b"}, {"op": "replace", "path": "/m~0n", "value": 3}]`, `{"m~n":3}`, ""},
		{`{}`, `[{"op": "add", "path": "", "value": [1]}]`, `[1]`, ""},
		// Failures, each naming what went wrong.
		{`{"a": 1}`, `[{"op": "test", "path": "/a", "value": 2}]`, "", "test failed"},
		{`{"a": 1}`, `[{"op": "remove", "path": "/b"}]`, "", `no member "b"`},
		{`{"a": 1}`, `[{"op": "replace", "path": "/b", "value": 2}]`, "", `no member "b"`},
		{`{"l": [1]}`, `[{"op": "add", "path": "/l/5", "value": 2}]`, "", "out of range"},
		{`{"l": [1]}`, `[{"op": "remove", "path": "/l/01"}]`, "", "not an array index"},
		{`{"a": {}}`, `[{"op": "move", "from": "/a", "path": "/a/b"}]`, "", "into itself"},
		{`{}`, `[{"op": "frobnicate", "path": "/a"}]`, "", `op "frobnicate"`},
		{`{}`, `[{"op": "add", "path": "a", "value": 1}]`, "", "starts with '/'"},
		{`{}`, `[{"op": "add", "path": "/a"}]`, "", "needs a value"},
		{`{}`, `[{"op": "add", "path": "/a~2", "value": 1}]`, "", "'~' must be followed"},
		{`{}`, `{"op": "add"}`, "", "want an array"},
		{`{"a": 1}`, `[{"op": "add", "path": "/a/b", "value": 1}]`, "", "not an object or array"},
	} {
		got, err := run(t, tc.doc, tc.patch)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s on %s: %v, want an error containing %q", tc.patch, tc.doc, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s on %s = %s, %v; want %s", tc.patch, tc.doc, got, err, tc.want)
		}
	}
}

// FuzzPatch applies any patch that parses to a fixed document: it must
// not panic, and what it returns must encode as JSON.
func FuzzPatch(f *testing.F) {
	for _, s := range []string{`[{"op": "add", "path": "/tags/-", "value": "x"}]`, `[{"op": "move", "from": "/a/0", "path": "/b"}]`,
		`[{"op": "copy", "from": "", "path": "/c"}]`, `[{"op": "remove", "path": "/a/1"}]`, `[{"op": "replace", "path": "", "value": 1}]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, patch string) {
		ops, err := Parse([]byte(patch))
		if err != nil {
			return
		}
		var doc any
		json.Unmarshal([]byte(`{"a": [1, 2, {"x": "y"}], "b": {"c": null}, "tags": ["t"]}`), &doc)
		out, err := Apply(doc, ops)
		if err != nil {
			return
		}
		if _, err := json.Marshal(out); err != nil {
			t.Fatalf("%s gave a value that does not encode: %v", patch, err)
		}
	})
}
