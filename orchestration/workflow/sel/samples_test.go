package sel

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// maestroRepo is where a copy of github.com/Netflix/maestro is looked for
// (a bare git directory or a clone); MAESTRO_REPO overrides it. The
// samples are read from it, never copied into this repository.
const maestroRepo = "/work/.mirror/Netflix+maestro/repo"

// sampleExpr is one SEL expression or condition found in a sample.
type sampleExpr struct {
	file, where, src string
}

// anyUUID stands for "a random UUID" in the expected values.
var anyUUID = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// sampleVars are the params the samples' expressions read, with values
// chosen for the test; sampleWant holds what Maestro gives for each
// expression with them, worked out by hand from SEL's semantics.
var sampleVars = map[string]any{
	"i": int64(3), "j": "b", "x": int64(4), "foo": "bar",
	"param": []string{"a", "b", "c"}, "param1": []string{"a", "b", "c"}, "param2": int64(15),
	"sleep_seconds": int64(15), "job3__sleep_seconds": int64(20),
	"TARGET_RUN_DATE": int64(20210707), "TARGET_RUN_HOUR": "01", "status_code": int64(404),
}

func sampleWant() map[string]any {
	var year2020 []int64
	for d := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() == 2020; d = d.AddDate(0, 0, 1) {
		year2020 = append(year2020, int64(d.Year()*10000+int(d.Month())*100+d.Day()))
	}
	joda := "\nDateTimeFormatter tz_dateint_hour_formatter = DateTimeFormat\n    .forPattern(\"yyyyMMddHH\")\n    .withZone(DateTimeZone.forID(\"UTC\"));\n\nDateTime dt = tz_dateint_hour_formatter\n    .parseDateTime(TARGET_RUN_DATE + \"00\")\n    .minusDays(0)\n    .minusHours(0);\n\ndt.withZone(DateTimeZone.forID(\"UTC\")).toString(\"%s\");\n"
	return map[string]any{
		// transition conditions
		"true":             true,
		"foo != 'default'": true,
		"x > 3":            true,
		"x > 10":           false,
		"param2 < 0":       false,
		"param2 >= 0":      true,
		"245 > 123":        true,
		"i <= 20200105":    true,
		"params.getFromStep('job.3', 'param2') > 0": true,
		"params.getFromStep('job.4', 'param3') > 0": true,
		// param expressions
		"'1800'":                          "1800",
		"'bar1';":                         "bar1",
		"1 * 1;":                          int64(1),
		"return 100;":                     int64(100),
		"i * 10;":                         int64(30),
		"i + 2;":                          int64(5),
		"i+1":                             int64(4),
		"i + j;":                          "3b",
		"x * 5;":                          int64(20),
		"job3__sleep_seconds + 1;":        int64(21),
		"sleep_seconds + '1';":            "151",
		"param1;":                         []string{"a", "b", "c"},
		"param!=null && param.size() > 2": true,
		"params.get('param0')":            int64(15),
		"params.getFromStep('MAESTRO_STEP_ERROR_RETRIES')":        int64(2),
		"params.getFromSignal('foo')":                             "bar",
		"params.getFromSignal('signal_a', 'watermark')":           int64(1700000000),
		"params.getFromSignalDependency('0', 'vtts_utc_dateint')": "20210707",
		"return UUID.randomUUID().toString();":                    anyUUID,
		"Util.dateIntsBetween(20200101, 20200110, 1);": []int64{20200101, 20200102, 20200103, 20200104,
			20200105, 20200106, 20200107, 20200108, 20200109},
		"Util.dateIntsBetween(20200101, 20210101, 1);":                                               year2020,
		"Util.intsBetween(1, i, 1);":                                                                 []int64{1, 2},
		"Util.dateIntHourToTs(TARGET_RUN_DATE, TARGET_RUN_HOUR, 'UTC', 0, 0)/1000":                   int64(1625619600),
		"new DateTime(1569018000000).withZone(DateTimeZone.forID('UTC')).monthOfYear().getAsText();": "September",
		strings.Replace(joda, "%s", "yyyyMMdd", 1):                                                   "20210707",
		strings.Replace(joda, "%s", "HH", 1):                                                         "00",
		`WORKFLOW_RUN_POLICY = params.getFromInstance('RUN_POLICY'); if (WORKFLOW_RUN_POLICY == "START_FRESH_NEW_RUN") return "run"; else if (WORKFLOW_RUN_POLICY == "RESTART_FROM_INCOMPLETE") return "resume"; else if (WORKFLOW_RUN_POLICY == "RESTART_FROM_START") return "run"; else throw "Unsupported restart mode: " + WORKFLOW_RUN_POLICY;`: "run",
		"if (status_code == 404) return \"DONE\";\nelse return \"FATAL_ERROR\";\n": "DONE",
	}
}

func sampleScope() fakeScope {
	return fakeScope{
		vars:     sampleVars,
		params:   map[string]any{"param0": int64(15)},
		instance: map[string]any{"RUN_POLICY": "RESTART_FROM_START"},
		steps: map[string]any{"job.3/param2": int64(15), "job.4/param3": int64(15),
			"/MAESTRO_STEP_ERROR_RETRIES": int64(2)},
		signals: map[string]any{"/foo": "bar", "signal_a/watermark": int64(1700000000)},
		deps:    map[string]any{"0/vtts_utc_dateint": "20210707"},
	}
}

// TestMaestroSamples compiles and evaluates every expression and
// condition of the sample workflows in Maestro's repository. It needs a
// copy of that repository and skips without one.
func TestMaestroSamples(t *testing.T) {
	repo := os.Getenv("MAESTRO_REPO")
	if repo == "" {
		repo = maestroRepo
	}
	if _, err := os.Stat(repo); err != nil {
		t.Skipf("no copy of github.com/Netflix/maestro at %s (set MAESTRO_REPO to one): the samples are not checked", repo)
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed: the samples are not checked")
	}
	out, err := exec.Command("git", "-C", repo, "ls-tree", "-r", "--name-only", "HEAD").Output()
	if err != nil {
		t.Fatalf("git ls-tree in %s: %v", repo, err)
	}
	var exprs []sampleExpr
	for _, file := range strings.Split(string(out), "\n") {
		if !strings.Contains(file, "resources/samples/") {
			continue
		}
		body, err := exec.Command("git", "-C", repo, "show", "HEAD:"+file).Output()
		if err != nil {
			t.Fatalf("git show %s: %v", file, err)
		}
		found, err := sampleExprs(file, body)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		exprs = append(exprs, found...)
	}
	if len(exprs) < 40 {
		t.Fatalf("found only %d expressions in the samples; the extraction is broken", len(exprs))
	}
	want := sampleWant()
	var names []string
	for name := range sampleVars {
		names = append(names, name)
	}
	env := Env{Vars: names, Now: func() time.Time { return testNow }}
	for _, e := range exprs {
		w, ok := want[e.src]
		if !ok {
			t.Errorf("%s %s: no expected value for %q: work it out and add it to sampleWant", e.file, e.where, e.src)
			continue
		}
		p, err := Compile(e.src, env)
		if err != nil {
			t.Errorf("%s %s: %v", e.file, e.where, err)
			continue
		}
		got, err := p.Eval(context.Background(), sampleScope())
		if err != nil {
			t.Errorf("%s %s: %q (CEL %s): %v", e.file, e.where, e.src, p.CEL(), err)
			continue
		}
		if re, ok := w.(*regexp.Regexp); ok {
			if s, _ := got.(string); !re.MatchString(s) {
				t.Errorf("%s %s: %q = %#v, want a match of %s", e.file, e.where, e.src, got, re)
			}
			continue
		}
		if !reflect.DeepEqual(got, w) {
			t.Errorf("%s %s: %q (CEL %s) = %#v, want %#v", e.file, e.where, e.src, p.CEL(), got, w)
		}
	}
	t.Logf("%d expressions and conditions in the samples compile and evaluate as Maestro's", len(exprs))
}

// yamlCondition is a transition of Maestro's YAML format: "IF cond THEN step".
var yamlCondition = regexp.MustCompile(`(?is)^\s*if\s+(.*?)\s+then\s+\S+\s*$`)

// sampleExprs finds the SEL in one sample: in JSON, params' "expression",
// "validator", a while step's "condition" and the conditions of
// "successors" (but not a predefined time trigger's expression, which is
// a cron alias); in YAML, params named "!name", "state_expr" and the
// conditions of IF … THEN transitions.
func sampleExprs(file string, body []byte) ([]sampleExpr, error) {
	var doc any
	var err error
	yamlFile := strings.HasSuffix(file, ".yaml") || strings.HasSuffix(file, ".yml")
	if yamlFile {
		err = yaml.Unmarshal(body, &doc)
	} else {
		err = json.Unmarshal(body, &doc)
	}
	if err != nil {
		return nil, err
	}
	var out []sampleExpr
	add := func(where []string, src string) {
		out = append(out, sampleExpr{file: path.Base(file), where: strings.Join(where, "."), src: src})
	}
	var walk func(v any, where []string)
	walk = func(v any, where []string) {
		switch x := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			_, trigger := x["timezone"]
			for _, k := range keys {
				s, isString := x[k].(string)
				at := append(append([]string{}, where...), k)
				switch {
				case !isString:
				case yamlFile && (strings.HasPrefix(k, "!") || k == "state_expr"):
					add(at, s)
				case !yamlFile && (k == "expression" && !trigger || k == "validator" || k == "condition"):
					add(at, s)
				case !yamlFile && len(where) > 0 && where[len(where)-1] == "successors":
					add(at, s)
				}
				walk(x[k], at)
			}
		case []any:
			for i, e := range x {
				at := append(append([]string{}, where...), "["+itoa(i)+"]")
				if s, ok := e.(string); ok && yamlFile && len(where) > 0 && where[len(where)-1] == "transition" {
					if m := yamlCondition.FindStringSubmatch(s); m != nil {
						add(at, m[1])
					}
				}
				walk(e, at)
			}
		}
	}
	walk(doc, nil)
	return out, nil
}
