package definition

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const dagJSON = `{
  "properties": {"owner": "tester", "run_strategy": "parallel"},
  "workflow": {
    "id": "etl",
    "params": {"day": {"value": 20250101, "type": "LONG"}, "names": {"value": ["a", "b"], "type": "string_array"}},
    "time_triggers": [{"type": "CRON", "cron": "0 0 12 1/1 * ? *", "timezone": "US/Pacific"}],
    "steps": [
      {"step": {"id": "extract", "type": "NoOp", "transition": {"successors": {"load": "true", "check": "true"}}}},
      {"step": {"id": "check", "type": "Sleep", "params": {"sleep_seconds": {"value": 1, "type": "LONG"}},
        "transition": {"successors": {"load": "true"}}}},
      {"foreach": {"id": "load", "concurrency": 2,
        "params": {"loop_params": {"value": {"i": {"value": [1, 2, 3], "type": "LONG_ARRAY"}}, "type": "MAP"}},
        "steps": [{"step": {"id": "part", "type": "NoOp"}}]}}
    ]
  }
}`

func TestParseJSON(t *testing.T) {
	d, err := Parse("etl.json", []byte(dagJSON))
	if err != nil {
		t.Fatal(err)
	}
	if err := Check(d, CheckOptions{}); err != nil {
		t.Fatal(err)
	}
	w := d.Workflow
	if w.ID != "etl" || len(w.Steps) != 3 || w.Steps[2].Kind != KindForeach || len(w.Steps[2].Steps) != 1 {
		t.Fatalf("parsed %+v", w)
	}
	if got := w.Steps[0].Transition.Order; strings.Join(got, ",") != "load,check" {
		t.Errorf("successor order %v, want as written", got)
	}
	if w.Params["names"].Type != TypeStringArray {
		t.Errorf("type not normalised: %q", w.Params["names"].Type)
	}
	loop := w.Steps[2].Params["loop_params"].Value.(map[string]Param)
	if loop["i"].Type != TypeLongArray {
		t.Errorf("loop params: %+v", loop)
	}
	sched, loc, err := w.TimeTriggers[0].Schedule()
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 12, 7, 0, 0, 0, 0, loc)
	if next := sched.Next(from); !next.Equal(time.Date(2026, 12, 7, 12, 0, 0, 0, loc)) {
		t.Errorf("next run %s", next)
	}
}

const dagDSL = `Workflow:
  id: cond
  owner: tester
  param0: 15
  jobs:
    - job:
        id: a
        type: NoOp
        transition:
          - b
    - job:
        id: b
        type: NoOp
        p2: 15
        transition:
          - IF p2 < 0 THEN c
          - OTHERWISE d
    - job:
        id: c
        type: NoOp
    - job:
        id: d
        type: NoOp
        '!p5<long>': "params.get('param0')"
        'http<pmap>':
          url: "http://example.test"
`

func TestParseDSL(t *testing.T) {
	d, err := Parse("cond.yaml", []byte(dagDSL))
	if err != nil {
		t.Fatal(err)
	}
	if err := Check(d, CheckOptions{}); err != nil {
		t.Fatal(err)
	}
	b := d.Workflow.Steps[1]
	if b.Transition.Successors["c"] != "p2 < 0" || b.Transition.Successors["d"] != "!((p2 < 0))" {
		t.Errorf("transitions %v", b.Transition.Successors)
	}
	if p := d.Workflow.Params["param0"]; p.Type != TypeLong {
		t.Errorf("param0 %+v", p)
	}
	dd := d.Workflow.Steps[3]
	if p := dd.Params["p5"]; p.Type != TypeLong || p.Expression == "" {
		t.Errorf("p5 %+v", p)
	}
	if p := dd.Params["http"]; p.Type != TypeMap {
		t.Errorf("http %+v", p)
	}
}

// TestBadDefinitions: each is refused, with every problem named by its
// path and reason.
func TestBadDefinitions(t *testing.T) {
	step := func(id, extra string) string {
		return `{"step": {"id": "` + id + `", "type": "NoOp"` + extra + `}}`
	}
	wf := func(steps ...string) string {
		return `{"workflow": {"id": "w", "steps": [` + strings.Join(steps, ",") + `]}}`
	}
	for _, c := range []struct{ name, src, want string }{
		{"cycle", wf(step("a", `, "transition": {"successors": {"b": "true"}}`), step("b", `, "transition": {"successors": {"a": "true"}}`)),
			"workflow.steps: the transitions form a cycle: a → b → a"},
		{"unknown successor", wf(step("a", `, "transition": {"successors": {"z": "true"}}`)),
			`workflow.steps[0](a).transition.successors: unknown successor "z"`},
		{"duplicate id", wf(step("a", ""), step("a", "")), `workflow.steps[1](a).id: duplicate step id "a" (first at workflow.steps[0](a))`},
		{"param type", `{"workflow": {"id": "w", "params": {"n": {"value": "ten", "type": "LONG"}}, "steps": [` + step("a", "") + `]}}`,
			`workflow.params.n.value: want LONG, got the string "ten"`},
		{"unknown type", `{"workflow": {"id": "w", "params": {"n": {"value": 1, "type": "INT"}}, "steps": [` + step("a", "") + `]}}`,
			`workflow.params.n.type: "INT"`},
		{"bad cron", `{"workflow": {"id": "w", "time_triggers": [{"type": "CRON", "cron": "61 * * * *"}], "steps": [` + step("a", "") + `]}}`,
			"workflow.time_triggers[0]: cron"},
		{"bad zone", `{"workflow": {"id": "w", "time_triggers": [{"type": "CRON", "cron": "* * * * *", "timezone": "Mars/Base"}], "steps": [` + step("a", "") + `]}}`,
			`timezone "Mars/Base": unknown`},
		{"no steps", `{"workflow": {"id": "w", "steps": []}}`, "workflow.steps: a workflow needs at least one step"},
		{"no type", `{"workflow": {"id": "w", "steps": [{"step": {"id": "a"}}]}}`, "workflow.steps[0](a).type: a step needs a type"},
		{"two kinds", `{"workflow": {"id": "w", "steps": [{"step": {"id": "a"}, "foreach": {"id": "b"}}]}}`, "exactly one key"},
		{"syntax", "{\"workflow\": {\n\"id\": \"w\",,\n}}", "w.json:2: JSON"},
		{"yaml syntax", "Workflow:\n  id: [\n", "w.json:"},
		{"foreach without loop", wf(`{"foreach": {"id": "f", "steps": [` + step("x", "") + `]}}`), "needs loop_params"},
		{"sleep without seconds", wf(`{"step": {"id": "s", "type": "Sleep"}}`), "needs the param sleep_seconds"},
		{"subworkflow without id", wf(`{"subworkflow": {"id": "s"}}`), "needs the param subworkflow_id"},
		{"bad id", wf(step("has space", "")), `.id: "has space"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			d, err := Parse("w.json", []byte(c.src))
			if err == nil {
				err = Check(d, CheckOptions{File: "w.json"})
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want it to contain %q", err, c.want)
			}
		})
	}
}

// TestMaestroSamples parses and checks every sample workflow of Maestro's
// public repository, read from a local mirror of it when one exists
// (GAFFER_MAESTRO_REPO, or the library's mirror beside the checkout).
func TestMaestroSamples(t *testing.T) {
	repo := os.Getenv("GAFFER_MAESTRO_REPO")
	if repo == "" {
		repo = "../../../../.mirror/Netflix+maestro/repo"
	}
	if _, err := os.Stat(repo); err != nil {
		t.Skipf("no mirror of Maestro's repository at %s (set GAFFER_MAESTRO_REPO): its samples are not checked", repo)
	}
	out, err := exec.Command("git", "-C", repo, "ls-tree", "-r", "--name-only", "HEAD", "maestro-server/src/test/resources/samples").Output()
	if err != nil {
		t.Skipf("read the mirror: %v", err)
	}
	n := 0
	for _, path := range strings.Fields(string(out)) {
		if ext := filepath.Ext(path); ext != ".json" && ext != ".yaml" {
			continue
		}
		src, err := exec.Command("git", "-C", repo, "show", "HEAD:"+path).Output()
		if err != nil {
			t.Fatal(err)
		}
		n++
		d, err := Parse(filepath.Base(path), src)
		if err == nil {
			err = Check(d, CheckOptions{File: filepath.Base(path)})
		}
		if err != nil {
			t.Errorf("%s: %v", path, err)
		}
	}
	t.Logf("%d Maestro samples parsed and checked", n)
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(dagJSON))
	f.Add([]byte(dagDSL))
	f.Add([]byte(`{"workflow": {"id": "w", "steps": [{"foreach": {"id": "f", "steps": [{"step": {"id": "a", "type": "NoOp"}}]}}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Parse("fuzz", data)
		if err != nil {
			return
		}
		Check(d, CheckOptions{})
	})
}

// TestRoundTrip: a definition written as JSON reads back the same.
func TestRoundTrip(t *testing.T) {
	for _, src := range []string{dagJSON, dagDSL} {
		d, err := Parse("x", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		back, err := Parse("x", b)
		if err != nil {
			t.Fatalf("%v\n%s", err, b)
		}
		b2, _ := json.Marshal(back)
		if string(b) != string(b2) {
			t.Errorf("round trip differs:\n%s\n%s", b, b2)
		}
		if err := Check(back, CheckOptions{}); err != nil {
			t.Error(err)
		}
	}
}
