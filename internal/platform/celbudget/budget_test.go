package celbudget

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"cel.dev/cel-go/cel"
	celext "cel.dev/cel-go/ext"
)

// testEnv is an environment like the ones Gaffer's systems build: the
// extension libraries, then the budget's options.
func testEnv(t testing.TB, b Budget) *cel.Env {
	t.Helper()
	opts := []cel.EnvOption{
		cel.Variable("s", cel.StringType),
		cel.Variable("n", cel.IntType),
		celext.Strings(), celext.Encoders(), celext.Math(), celext.Sets(),
		celext.Lists(celext.ListsMaxRangeSize(10_000)),
	}
	env, err := cel.NewEnv(append(opts, b.EnvOptions()...)...)
	if err != nil {
		t.Fatalf("NewEnv: %v", err)
	}
	return env
}

func plan(t testing.TB, b Budget, src string) *Program {
	t.Helper()
	env := testEnv(t, b)
	ast, iss := env.Compile(src)
	if iss.Err() != nil {
		t.Fatalf("compile %q: %v", src, iss.Err())
	}
	p, err := b.Program(env, ast)
	if err != nil {
		t.Fatalf("plan %q: %v", src, err)
	}
	return p
}

// replaceBomb is the condition from issue #15: each replace multiplies the
// string's length by ten, so eleven of them ask for 100 GB.
const replaceBomb = `s.replace("a", "aaaaaaaaaa").replace("a", "aaaaaaaaaa").replace("a", "aaaaaaaaaa")` +
	`.replace("a", "aaaaaaaaaa").replace("a", "aaaaaaaaaa").replace("a", "aaaaaaaaaa")` +
	`.replace("a", "aaaaaaaaaa").replace("a", "aaaaaaaaaa").replace("a", "aaaaaaaaaa")` +
	`.replace("a", "aaaaaaaaaa").replace("a", "aaaaaaaaaa").size() > 0`

func TestReplaceBombStopsBeforeAllocating(t *testing.T) {
	for _, b := range []Budget{
		Default(),
		// Without the cost limit's help, the size limit alone stops it.
		{Cost: 1 << 62, MaxSize: Default().MaxSize, Timeout: time.Minute},
	} {
		p := plan(t, b, replaceBomb)
		vars := map[string]any{"s": "a", "n": 0}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, err := p.Eval(context.Background(), vars)
		runtime.ReadMemStats(&after)
		var ex *ExceededError
		if !errors.As(err, &ex) || !errors.Is(err, ErrExceeded) {
			t.Fatalf("budget %+v: Eval = %v, want an *ExceededError", b, err)
		}
		if b.Cost == Default().Cost && ex.Limit != "cost" {
			t.Errorf("default budget: error = %q, want the cost limit (replace costs a unit per ten bytes)", err)
		}
		if b.Cost != Default().Cost && (ex.Limit != "size" || !strings.Contains(err.Error(), "replace would build a string of 10000000 bytes")) {
			t.Errorf("budget %+v: error = %q, want the size limit naming replace's result", b, err)
		}
		// The largest string allowed is 8 MiB; the evaluation builds a few
		// below it (1 MB, 100 kB, ...) and never the 10 MB refused. The
		// bound is under 10 MB rather than tight: under the race detector
		// the same evaluation allocates about 6 MB.
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 9<<20 {
			t.Errorf("budget %+v: the evaluation allocated %d bytes, want < 9 MiB (less than the 10 MB string refused)", b, grew)
		}
	}
}

func TestSplitRefusedBeforeAllocating(t *testing.T) {
	b := Budget{Cost: 1 << 40, MaxSize: 1000, Timeout: time.Minute}
	p := plan(t, b, `s.split("").size()`)
	if _, err := p.Eval(context.Background(), map[string]any{"s": strings.Repeat("x", 999), "n": 0}); !errors.Is(err, ErrExceeded) {
		t.Fatalf("split of 999 runes into a list: %v, want the size limit", err)
	}
	out, err := p.Eval(context.Background(), map[string]any{"s": strings.Repeat("x", 400), "n": 0})
	if err != nil || out.Value() != int64(400) {
		t.Fatalf("split of 400 runes = %v, %v; want 400", out, err)
	}
}

func TestReplaceAndSplitKeepTheirMeaning(t *testing.T) {
	b := Default()
	for src, want := range map[string]any{
		`"a-b-c".replace("-", "+")`:                 "a+b+c",
		`"a-b-c".replace("-", "+", 1)`:              "a+b-c",
		`"a-b-c".replace("-", "+", 0)`:              "a-b-c",
		`"abc".replace("", "_")`:                    "_a_b_c_",
		`"a-b-c".split("-")`:                        []string{"a", "b", "c"},
		`"a-b-c".split("-", 2)`:                     []string{"a", "b-c"},
		`"a-b-c".split("-", 0)`:                     []string{},
		`"héj".split("")`:                           []string{"h", "é", "j"},
		`"héj".split("", 2)`:                        []string{"h", "éj"},
		`"".split("")`:                              []string{},
		`"a-b-c".split("-", -1).size()`:             int64(3),
		`["a","b"].join("-") + s.replace("x", "y")`: "a-by",
	} {
		p := plan(t, b, src)
		out, err := p.Eval(context.Background(), map[string]any{"s": "x", "n": 0})
		if err != nil {
			t.Errorf("%s: %v", src, err)
			continue
		}
		got, err := out.ConvertToNative(reflectTypeOf(want))
		if err != nil {
			t.Errorf("%s: convert %v: %v", src, out, err)
			continue
		}
		if !equalAny(got, want) {
			t.Errorf("%s = %#v, want %#v", src, got, want)
		}
	}
}

func TestConcatenationStoppedBySizeLimit(t *testing.T) {
	b := Budget{Cost: 1 << 40, MaxSize: 1 << 16, Timeout: time.Minute}
	p := plan(t, b, `(s + s + s + s + s + s + s + s + s + s + s + s + s + s + s + s).size()`)
	_, err := p.Eval(context.Background(), map[string]any{"s": strings.Repeat("x", 1<<13), "n": 0})
	var ex *ExceededError
	if !errors.As(err, &ex) || ex.Limit != "size" {
		t.Fatalf("Eval = %v, want the size limit", err)
	}
}

func TestCostLimitStopsLoops(t *testing.T) {
	b := Budget{Cost: 10_000, MaxSize: 1 << 20, Timeout: time.Minute}
	p := plan(t, b, `lists.range(n).map(i, lists.range(n).filter(j, j < i).size()).size() > 0`)
	if _, err := p.Eval(context.Background(), map[string]any{"s": "", "n": 10}); err != nil {
		t.Fatalf("a small loop: %v", err)
	}
	_, err := p.Eval(context.Background(), map[string]any{"s": "", "n": 5000})
	var ex *ExceededError
	if !errors.As(err, &ex) || ex.Limit != "cost" || !strings.Contains(err.Error(), "CEL cost limit of 10000 units exceeded") {
		t.Fatalf("Eval = %v, want the cost limit", err)
	}
}

func TestTimeLimitStopsLoops(t *testing.T) {
	b := Budget{Cost: 1 << 62, MaxSize: 1 << 30, Timeout: time.Nanosecond}
	p := plan(t, b, `lists.range(n).all(i, lists.range(n).all(j, i + j >= 0))`)
	_, err := p.Eval(context.Background(), map[string]any{"s": "", "n": 10_000})
	var ex *ExceededError
	if !errors.As(err, &ex) || ex.Limit != "time" || !strings.Contains(err.Error(), "CEL time limit of 1ns exceeded") {
		t.Fatalf("Eval = %v, want the time limit", err)
	}
}

func TestCancelledContextIsNotABudgetError(t *testing.T) {
	p := plan(t, Default(), `lists.range(n).all(i, lists.range(n).all(j, i + j >= 0))`)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := p.Eval(ctx, map[string]any{"s": "", "n": 10_000})
	if err == nil || errors.Is(err, ErrExceeded) {
		t.Fatalf("Eval with a cancelled context = %v, want CEL's cancellation, not a budget error", err)
	}
}

func TestPlanRefusesWhatAlwaysCostsTooMuch(t *testing.T) {
	b := Budget{Cost: 100, MaxSize: 1 << 20, Timeout: time.Second}
	env := testEnv(t, b)
	ast, iss := env.Compile(`lists.range(10000).all(i, i >= 0)`)
	if iss.Err() != nil {
		t.Fatal(iss.Err())
	}
	_, err := b.Program(env, ast)
	if !errors.Is(err, ErrExceeded) || !strings.Contains(err.Error(), "costs at least") {
		t.Fatalf("Program = %v, want the cost limit at plan time", err)
	}
}

func TestValidate(t *testing.T) {
	if err := Default().Validate("events"); err != nil {
		t.Fatalf("Default: %v", err)
	}
	for b, want := range map[Budget]string{
		{MaxSize: 1, Timeout: 1}:           "events-cel-cost-limit: must be positive",
		{Cost: 1, Timeout: 1}:              "events-cel-max-size: must be positive",
		{Cost: 1, MaxSize: 1}:              "events-cel-timeout: must be positive, got 0s",
		{Cost: 1, MaxSize: 1, Timeout: -1}: "events-cel-timeout: must be positive, got -1ns",
	} {
		if err := b.Validate("events"); err == nil || err.Error() != want {
			t.Errorf("Validate(%+v) = %v, want %q", b, err, want)
		}
	}
}

func TestCheapExpressionsAreProvenWhenPlanned(t *testing.T) {
	b := Default()
	for src, want := range map[string][2]bool{ // cost tracked, size tracked
		`s.startsWith("a") && n > 3`:      {false, false},
		`s == "x" || s.size() < 10`:       {false, false},
		`s + s == "aa"`:                   {true, true}, // 2 × 8 MiB at ten bytes a unit
		`s.replace("a", "b") == "b"`:      {true, true},
		`[1, 2, 3].exists(x, x == n)`:     {true, true},
		`lists.range(n).size() > 0`:       {true, true},
		`s.contains("a") && s.size() > 0`: {false, false},
	} {
		p := plan(t, b, src)
		if got := [2]bool{p.costTracked, p.sizeTracked}; got != want {
			t.Errorf("%s: cost tracked, size tracked = %v, want %v (estimate %+v)", src, got, want, p.Estimate)
		}
	}
}
