package events

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"cel.dev/cel-go/common/types"

	"github.com/gaffer-sre/gaffer/internal/platform/bus"
)

func mustRule(t testing.TB, name, cond string) *compiledRule {
	t.Helper()
	cr, err := compileRule(&Rule{ID: name, Name: name, Condition: cond, Enabled: true,
		Actions: []Action{{Type: ActionWebhook, URL: "http://127.0.0.1:1/x"}}}, nil)
	if err != nil {
		t.Fatalf("compile %q: %v", cond, err)
	}
	return cr
}

func testEvent(typ, source string, data string) *bus.Event {
	ev := &bus.Event{SpecVersion: "1.0", ID: "e1", Source: source, Type: typ,
		Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	if data != "" {
		ev.Data = json.RawMessage(data)
	}
	return ev
}

func matchNames(m *Matcher, ev *bus.Event) []string {
	var act activation
	act.reset(ev, time.Now())
	var names []string
	for _, r := range m.Match(&act, nil) {
		names = append(names, r.rule.Name)
	}
	return names
}

func TestIndexOptions(t *testing.T) {
	cases := []struct{ cond, want string }{
		{`type == "a"`, `evaluated when type == "a"`},
		{`"a" == type`, `evaluated when type == "a"`},
		{`type in ["a", "b"]`, `evaluated when type == "a" or type == "b"`},
		{`type.startsWith("gaffer.")`, `evaluated when type starts with "gaffer."`},
		{`data.severity == "critical" && data.count > 3`, `evaluated when data.severity == "critical"`},
		{`data["a-b"].c == "x"`, `evaluated when data.a-b.c == "x"`},
		{`ext.region == "eu"`, `evaluated when ext.region == "eu"`},
		{`type == "a" || source == "/s"`, `evaluated when type == "a" or source == "/s"`},
		{`type == "a" || data.n > 1`, `evaluated for every event (no indexable conjunct)`},
		{`type != "a"`, `evaluated for every event (no indexable conjunct)`},
		{`!(type == "a")`, `evaluated for every event (no indexable conjunct)`},
		{`type.startsWith("")`, `evaluated for every event (no indexable conjunct)`},
		{`data.n == 1`, `evaluated for every event (no indexable conjunct)`},
		{`has(data.x) && true`, `evaluated for every event (no indexable conjunct)`},
	}
	for _, c := range cases {
		m := newMatcher([]*compiledRule{mustRule(t, "r", c.cond)})
		if got := describeIndex(m.rules[0].indexedBy); got != c.want {
			t.Errorf("%s: %s, want %s", c.cond, got, c.want)
		}
	}
}

func TestIndexPrefersSelectiveKeys(t *testing.T) {
	var rules []*compiledRule
	for i := 0; i < 20; i++ {
		rules = append(rules, mustRule(t, fmt.Sprint("r", i),
			fmt.Sprintf(`type == "gaffer.alerting.firing" && data.service == "svc%d"`, i)))
	}
	m := newMatcher(rules)
	if got := describeIndex(rules[3].indexedBy); got != `evaluated when data.service == "svc3"` {
		t.Fatalf("index = %s", got)
	}
	got := matchNames(m, testEvent("gaffer.alerting.firing", "/a", `{"service":"svc3"}`))
	if strings.Join(got, ",") != "r3" {
		t.Fatalf("matched %v", got)
	}
}

func TestMatchSemantics(t *testing.T) {
	rules := []*compiledRule{
		mustRule(t, "critical", `type == "gaffer.alerting.firing" && data.severity == "critical"`),
		mustRule(t, "deploys", `type.startsWith("gaffer.deploy.")`),
		mustRule(t, "eu", `ext.region == "eu" && source in ["/a", "/b"]`),
		mustRule(t, "big", `data.value > 10`),
		mustRule(t, "nested", `data.labels.team == "sre"`),
		mustRule(t, "recent", `time > timestamp("2026-01-01T00:00:00Z") && subject == ""`),
		mustRule(t, "either", `type == "x" || data.labels.team == "web"`),
		mustRule(t, "list", `data.tags.exists(t, t == "db")`),
	}
	m := newMatcher(rules)
	cases := []struct {
		ev   *bus.Event
		want string
	}{
		{testEvent("gaffer.alerting.firing", "/a", `{"severity":"critical","value":3}`), "critical,recent"},
		{testEvent("gaffer.alerting.firing", "/a", `{"severity":"warning","value":30}`), "big,recent"},
		{testEvent("gaffer.deploy.started", "/a", `{"labels":{"team":"sre"}}`), "deploys,nested,recent"},
		{testEvent("x", "/a", `{"labels":{"team":"web"},"tags":["db","x"]}`), "recent,either,list"},
		{testEvent("y", "/a", `"just a string"`), "recent"},
		{testEvent("y", "/a", ``), "recent"},
	}
	eu := testEvent("z", "/b", `{}`)
	eu.Extensions = map[string]any{"region": "eu"}
	cases = append(cases, struct {
		ev   *bus.Event
		want string
	}{eu, "eu,recent"})
	for _, c := range cases {
		if got := strings.Join(matchNames(m, c.ev), ","); got != c.want {
			t.Errorf("%s %s: matched %q, want %q", c.ev.Type, c.ev.Data, got, c.want)
		}
	}
	if rules[3].stats.evalErrors.Load() == 0 {
		t.Errorf("data.value on events without it should count evaluation errors")
	}
}

func TestJSONValues(t *testing.T) {
	ev := testEvent("t", "/s", `{"a":{"b":[1,2,{"c":"d"}]},"n":2.5,"dup":"first","dup":"last","ok":true,"nil":null}`)
	for cond, want := range map[string]bool{
		`data.a.b[2].c == "d"`:                true,
		`data.a.b.size() == 3`:                true,
		`data.a.b[0] == 1`:                    true,
		`data.n > 2`:                          true,
		`data.n == 2.5`:                       true,
		`data.dup == "last"`:                  true,
		`data.ok`:                             true,
		`data.nil == null`:                    true,
		`"a" in data`:                         true,
		`has(data.a.b)`:                       true,
		`has(data.zz)`:                        false,
		`data.a == {"b": [1, 2, {"c": "d"}]}`: true,
		`data.a.b.map(x, type(x) == double).exists(x, x)`: true,
		`data.?zz.orValue("dflt") == "dflt"`:              true,
		`size(data) == 5`:                                 true,
		`data.a.b + [3] == [1, 2, {"c": "d"}, 3]`:         true,
	} {
		m := newMatcher([]*compiledRule{mustRule(t, "r", cond)})
		got := len(matchNames(m, ev)) == 1
		if got != want {
			var act activation
			act.reset(ev, time.Now())
			out, err := m.rules[0].cond.prg.Eval(context.Background(), &act)
			t.Errorf("%s = %v (%v, %v), want %v", cond, got, out, err, want)
		}
	}
}

// TestIndexIsSound checks, over random rules and events, that the index
// never hides a rule whose condition is true: Match must agree with
// evaluating every rule.
func TestIndexIsSound(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	rules := randomRules(t, rng, 300)
	m := newMatcher(rules)
	for i := 0; i < 3000; i++ {
		ev := randomEvent(rng, i)
		var act activation
		act.reset(ev, time.Now())
		got := map[string]bool{}
		for _, r := range m.Match(&act, nil) {
			got[r.rule.Name] = true
		}
		for _, r := range rules {
			act.reset(ev, time.Now())
			out, err := r.cond.prg.Eval(context.Background(), &act)
			want := err == nil && out == types.True
			if want != got[r.rule.Name] {
				t.Fatalf("rule %s (%s) on %s %s %s: index says %v, evaluation %v",
					r.rule.Name, r.rule.Condition, ev.Type, ev.Source, ev.Data, got[r.rule.Name], want)
			}
		}
	}
}

var (
	benchTypes    = []string{"gaffer.alerting.firing", "gaffer.alerting.resolved", "gaffer.deploy.started", "gaffer.deploy.finished", "com.example.order.created"}
	benchSources  = []string{"/alerting", "/spinnaker", "/orders", "/failover"}
	benchSeverity = []string{"critical", "warning", "info"}
)

func randomRules(t testing.TB, rng *rand.Rand, n int) []*compiledRule {
	var out []*compiledRule
	atoms := []func() string{
		func() string { return fmt.Sprintf(`type == %q`, benchTypes[rng.IntN(len(benchTypes))]) },
		func() string { return fmt.Sprintf(`source == %q`, benchSources[rng.IntN(len(benchSources))]) },
		func() string { return fmt.Sprintf(`data.severity == %q`, benchSeverity[rng.IntN(len(benchSeverity))]) },
		func() string { return fmt.Sprintf(`data.service == "svc%d"`, rng.IntN(20)) },
		func() string {
			return fmt.Sprintf(`type in [%q, %q]`, benchTypes[rng.IntN(5)], benchTypes[rng.IntN(5)])
		},
		func() string { return fmt.Sprintf(`type.startsWith(%q)`, benchTypes[rng.IntN(5)][:rng.IntN(12)+1]) },
		func() string { return fmt.Sprintf(`data.value > %d`, rng.IntN(100)) },
		func() string { return fmt.Sprintf(`ext.region == "r%d"`, rng.IntN(3)) },
		func() string { return fmt.Sprintf(`data.labels.team == "t%d"`, rng.IntN(3)) },
	}
	for i := 0; i < n; i++ {
		var parts []string
		for j := 0; j < 1+rng.IntN(3); j++ {
			parts = append(parts, atoms[rng.IntN(len(atoms))]())
		}
		op := " && "
		if rng.IntN(5) == 0 {
			op = " || "
		}
		cond := strings.Join(parts, op)
		if rng.IntN(6) == 0 {
			cond = "!(" + cond + ")"
		}
		out = append(out, mustRule(t, fmt.Sprint("r", i), cond))
	}
	return out
}

func randomEvent(rng *rand.Rand, i int) *bus.Event {
	data := map[string]any{"severity": benchSeverity[rng.IntN(3)], "service": fmt.Sprintf("svc%d", rng.IntN(20)),
		"value": rng.IntN(100)}
	if rng.IntN(2) == 0 {
		data["labels"] = map[string]any{"team": fmt.Sprintf("t%d", rng.IntN(3))}
	}
	if rng.IntN(10) == 0 {
		data["service"] = 7 // a number where rules expect a string
	}
	b, _ := json.Marshal(data)
	ev := testEvent(benchTypes[rng.IntN(len(benchTypes))], benchSources[rng.IntN(len(benchSources))], string(b))
	ev.ID = fmt.Sprint("ev", i)
	if rng.IntN(2) == 0 {
		ev.Extensions = map[string]any{"region": fmt.Sprintf("r%d", rng.IntN(3))}
	}
	return ev
}
