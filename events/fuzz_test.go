package events

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"

	"github.com/gaffer-sre/gaffer/internal/platform/bus"
)

// FuzzCompileRule feeds arbitrary conditions and event data to the rule
// compiler and matcher: nothing may panic, and for every condition that
// compiles the index must agree with evaluating the condition directly.
//
//	go test -run XXX -fuzz FuzzCompileRule -fuzztime 30s ./events/
func FuzzCompileRule(f *testing.F) {
	for _, c := range []string{
		`type == "a" && data.x == "b"`,
		`type in ["a", "b"] || source.startsWith("/s")`,
		`data.items.exists(i, i.sku == "x") && ext.region == "eu"`,
		`data["a-b"].c == "x" && time > timestamp("2020-01-01T00:00:00Z")`,
		`has(data.x) ? data.x > 1 : subject.matches("^o[0-9]+$")`,
		`data.?x.orValue(1) == 1 && id != ""`,
		`size(data.list) > 2 && data.list[0] == 1.0`,
	} {
		f.Add(c, []byte(`{"x":"b","items":[{"sku":"x"}],"a-b":{"c":"x"},"list":[1,2,3]}`))
	}
	f.Fuzz(func(t *testing.T, cond string, data []byte) {
		cr, err := compileRule(&Rule{Name: "fuzz", Condition: cond,
			Actions: []Action{{Type: ActionWebhook, URL: "http://127.0.0.1:1/"}}}, nil)
		if err != nil {
			if _, _, ok := fieldError(err); !ok {
				t.Fatalf("compile error without a field: %v", err)
			}
			return
		}
		m := newMatcher([]*compiledRule{cr})
		_ = describeIndex(cr.indexedBy)
		evs := []*bus.Event{testEvent("a", "/s", `{"x":"b"}`), testEvent("b", "/t", "")}
		if json.Valid(data) {
			evs = append(evs, testEvent("a", "/s", string(data)))
		}
		for _, ev := range evs {
			var act activation
			act.reset(ev, time.Now())
			matched := len(m.Match(&act, nil)) == 1
			act.reset(ev, time.Now())
			out, err := cr.cond.prg.Eval(context.Background(), &act)
			if want := err == nil && out == types.True; want != matched {
				t.Fatalf("%q on %s: index says %v, evaluation %v (%v)", cond, ev.Data, matched, want, err)
			}
		}
	})
}

// FuzzJSONValue checks the lazy JSON values against encoding/json: every
// member found by the scanner has the value a full decode gives.
func FuzzJSONValue(f *testing.F) {
	f.Add([]byte(`{"a":1,"b":"x\"y","c":[1,{"d":null}],"e":true,"a":2}`))
	f.Add([]byte(` { "\u00e9" : "caf\u00e9" , "n" : -1.5e3 } `))
	f.Add([]byte(`[1, "two", [3]]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if !json.Valid(data) {
			return
		}
		var decoded any
		if err := json.Unmarshal(data, &decoded); err != nil {
			return
		}
		want := types.DefaultTypeAdapter.NativeToValue(decoded)
		got := jsonToVal(string(data))
		if eq := got.Equal(want); eq != types.True {
			t.Fatalf("%s: lazy value differs from the decoded one", data)
		}
		obj, ok := got.(*jsonObject)
		if !ok {
			return
		}
		for k, v := range decoded.(map[string]any) {
			found, ok := obj.Find(types.String(k))
			if !ok {
				t.Fatalf("%s: member %q not found", data, k)
			}
			if eq := found.Equal(types.DefaultTypeAdapter.NativeToValue(v)); eq != types.True {
				t.Fatalf("%s: member %q = %v, want %v", data, k, found, v)
			}
			if s, isStr := v.(string); isStr {
				ev := testEvent("t", "/s", string(data))
				var act activation
				act.reset(ev, time.Now())
				got, ok := attrRef{root: "data", path: []string{k}}.stringValue(&act)
				if !ok || got != s {
					t.Fatalf("%s: index reads %q as %q, %v; want %q", data, k, got, ok, s)
				}
			}
		}
		if size := obj.Size(); size.(ref.Val).Equal(types.Int(len(decoded.(map[string]any)))) != types.True {
			t.Fatalf("%s: size %v", data, size)
		}
	})
}
