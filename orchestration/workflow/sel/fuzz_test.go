package sel

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/celbudget"
)

// FuzzCompile checks that Compile never panics, that SEL it translates is
// CEL that compiles, that it translates the same source to the same CEL, and that a
// program it accepts evaluates within its budget to one of Eval's
// documented types.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{
		"1 + 2 * 3", "i + j;", "'a' + 1 + 2", "x = 1; x += 2; return x;",
		"int x = 10; if (x > 0) x += 10; else x -= 10; return x;",
		"if (i < 0) { return 'neg'; } else if (i == 0) { return 'zero'; } else { return 'pos'; }",
		"params.getFromStep('job.3', 'param2') > 0", "params['param0']",
		"Util.dateIntsBetween(20200101, 20200110, 1);", "Util.intsBetween(1, i, 1);",
		"Util.dateIntHourToTs(TARGET_RUN_DATE, TARGET_RUN_HOUR, 'UTC', 0, 0)/1000",
		"new DateTime(1569018000000).withZone(DateTimeZone.forID('UTC')).monthOfYear().getAsText();",
		"DateTimeFormatter f = DateTimeFormat.forPattern(\"yyyyMMddHH\").withZone(DateTimeZone.forID(\"UTC\")); DateTime dt = f.parseDateTime(TARGET_RUN_DATE + \"00\").minusDays(1); dt.toString(\"yyyyMMdd\");",
		"return UUID.randomUUID().toString();", "'a,b,,c'.split(',')", "s.substring(1, 3)",
		"throw 'bad ' + i;", "while (true) {}", "new long[]{1, 2}[1]", "m['k']", "(long) i", "/* x */ 1",
		"'\\u00e9'", "1e7 + 'x'", "i > 9 ? 'big' : i > 3 ? 'mid' : 'small'",
	} {
		f.Add(s)
	}
	budget := celbudget.Budget{Cost: 100_000, MaxSize: 100_000, Timeout: 100 * time.Millisecond}
	f.Fuzz(func(t *testing.T, src string) {
		env := testEnv()
		env.Budget = budget
		p, err := Compile(src, env)
		if err != nil {
			// SEL the translator accepts must be CEL that compiles.
			if strings.Contains(err.Error(), "does not compile") {
				t.Fatalf("%q: %v", src, err)
			}
			return
		}
		again, err := Compile(src, env)
		if err != nil || again.CEL() != p.CEL() {
			t.Fatalf("%q: compiled to %s, then to %v (%v)", src, p.CEL(), again, err)
		}
		v, err := p.Eval(context.Background(), testScope())
		if err != nil {
			var ex *celbudget.ExceededError
			if errors.As(err, &ex) && ex.Limit == "" {
				t.Fatalf("%q: budget error without a limit: %v", src, err)
			}
			return
		}
		checkValue(t, src, v, budget.MaxSize)
	})
}

// checkValue fails unless v is one of the types Eval documents and no
// larger than the size limit.
func checkValue(t *testing.T, src string, v any, max uint32) {
	t.Helper()
	n := 0
	switch x := v.(type) {
	case nil, bool, int64, float64:
	case string:
		n = len(x)
	case []int64:
		n = len(x)
	case []float64:
		n = len(x)
	case []string:
		n = len(x)
	case []bool:
		n = len(x)
	case []any:
		n = len(x)
		for _, e := range x {
			checkValue(t, src, e, max)
		}
	case map[string]any:
		n = len(x)
		for _, e := range x {
			checkValue(t, src, e, max)
		}
	default:
		t.Fatalf("%q: value %#v of type %T", src, v, v)
	}
	if n > int(max) {
		t.Fatalf("%q: value of %d elements over the size limit %d", src, n, max)
	}
}
