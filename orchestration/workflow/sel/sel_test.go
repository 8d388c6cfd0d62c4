package sel

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/celbudget"
)

// testNow is the clock of the tests' Env.
var testNow = time.Date(2026, 3, 14, 15, 9, 26, 535_000_000, time.UTC)

func testScope() fakeScope {
	return fakeScope{
		vars: map[string]any{
			"i": int64(5), "zero": int64(0), "d": 1.5, "j": "a", "s": "Hello",
			"param1": []string{"a", "b", "c"}, "arr": []int64{1, 2, 3},
			"m":               map[string]any{"k": int64(1)},
			"TARGET_RUN_DATE": int64(20210707), "TARGET_RUN_HOUR": "01",
			"sleep_seconds": int64(15), "job3__sleep_seconds": int64(20), "nothing": nil,
			"big": int64(9223372036854775807), "startDateTime": int64(20190101), "endDateTime": int64(20190131),
		},
		params:   map[string]any{"param0": int64(15)},
		instance: map[string]any{"RUN_POLICY": "RESTART_FROM_INCOMPLETE"},
		steps:    map[string]any{"job.3/param2": int64(15), "/MAESTRO_STEP_ERROR_RETRIES": int64(2)},
		signals:  map[string]any{"signal_a/watermark": int64(1700000000), "/foo": "bar"},
		deps:     map[string]any{"0/vtts_utc_dateint": "20210707"},
		nested: map[string]any{"foreach-job1/foreach-step1/param1": []int64{10, 20},
			"subworkflow-job1/sub-step1/param1": "done"},
	}
}

func testEnv() Env {
	var names []string
	for name := range testScope().vars {
		names = append(names, name)
	}
	return Env{Vars: names, Now: func() time.Time { return testNow }}
}

func eval(t *testing.T, src string) (any, *Program, error) {
	t.Helper()
	p, err := Compile(src, testEnv())
	if err != nil {
		return nil, &Program{cel: "(none)"}, err
	}
	v, err := p.Eval(context.Background(), testScope())
	return v, p, err
}

func TestEval(t *testing.T) {
	days := func(from, to int64) []int64 {
		var out []int64
		for d := from; d <= to; d++ {
			out = append(out, d)
		}
		return out
	}
	cases := []struct {
		src  string
		want any
	}{
		// literals
		{"123;", int64(123)},
		{"1569018000000", int64(1569018000000)},
		{"12.5", 12.5},
		{`"hello world";`, "hello world"},
		{`'tab\there \'q\' \u00e9'`, "tab\there 'q' \u00e9"},
		{"010", int64(10)}, // SEL reads it as decimal, not Java's octal
		{"true", true},
		{"null", nil},
		// arithmetic with Java's types
		{"1 + 2 * 3", int64(7)},
		{"(1 + 2) * 3", int64(9)},
		{"7 / 2", int64(3)},
		{"-7 / 2", int64(-3)},
		{"-7 % 3", int64(-1)},
		{"1 / 2", int64(0)},
		{"1.0 / 2", 0.5},
		{"7.5 % 2", 1.5},
		{"7.5 % 2.0", 1.5},
		{"'a'.equals(1)", false},
		{"i + 2", int64(7)},
		{"i / 2", int64(2)},
		{"d + 1", 2.5},
		{"i * d", 7.5},
		{"-i", int64(-5)},
		{"+i", int64(5)},
		{"big + 1", int64(-9223372036854775808)},
		{"1 * 1;", int64(1)},
		{"job3__sleep_seconds + 1;", int64(21)},
		// string concatenation
		{"'a' + 1", "a1"},
		{"1 + 2 + 'a'", "3a"},
		{"'a' + 1 + 2", "a12"},
		{"sleep_seconds + '1';", "151"},
		{"i + j;", "5a"},
		{"'x' + 1.0", "x1.0"},
		{"'x' + 1e7", "x1.0E7"},
		{"'x' + d", "x1.5"},
		{"'x' + true", "xtrue"},
		{"'x' + nothing", "xnull"},
		{"'v' + arr", "v[1, 2, 3]"},
		// comparisons and logic
		{"2 > 1", true},
		{"i >= 5 && i < 6", true},
		{"1 == 1.0", true},
		{"'a' != 'b'", true},
		{"245 > 123", true},
		{"i <= 20200105", true},
		{"!true || false", false},
		{"!(i > 1)", false},
		{"nothing == null", true},
		{"param1 != null && param1.size() > 2", true},
		// ternary
		{"2 > 1 ? 10 : -10", int64(10)},
		{"i > 9 ? 'big' : i > 3 ? 'mid' : 'small'", "mid"},
		{"i > 1 ? 1 : 'a'", int64(1)},
		{"i > 1 ? 1 : 2.5", 1.0},
		{"i > 1 ? m : null", map[string]any{"k": int64(1)}},
		{"x = 1; if (i > 1) x = 'a'; return x;", "a"},
		{"i > 1 ? new long[]{1}[0] : new String[]{'a'}[0]", int64(1)},
		{"1 == 'a'", false},
		{"new String[]{'a', 'b'}.contains('b')", true},
		// statements
		{"return 100;", int64(100)},
		{"'bar1';", "bar1"},
		{"param1;", []string{"a", "b", "c"}},
		{"x = 1; x += 2; return x;", int64(3)},
		{"x = 10; x -= 3; x *= 2; x /= 4; x %= 3;", int64(0)},
		{"int x = 10; if (x > 0) x += 10; else x -= 10; return x;", int64(20)},
		{"long l = 123; Long m2 = l + 1; m2", int64(124)},
		{"double dd = 1; dd / 2", 0.5},
		{"String t = 'a'; t = t + 'b'; t", "ab"},
		{"if (2 > 1) return 'a'; return 'b';", "a"},
		{"if (i < 0) { return 'neg'; } else if (i == 0) { return 'zero'; } else { return 'pos'; }", "pos"},
		{"if (i > 0) { y = 1; } else { y = 2; } return y * 10;", int64(10)},
		{"{ x = 2; x += 1; } x", int64(3)},
		{"// comment\nx = 1; /* block */ x + 1", int64(2)},
		{"WORKFLOW_RUN_POLICY = params.getFromInstance('RUN_POLICY'); if (WORKFLOW_RUN_POLICY == \"START_FRESH_NEW_RUN\") return \"run\"; else if (WORKFLOW_RUN_POLICY == \"RESTART_FROM_INCOMPLETE\") return \"resume\"; else throw \"Unsupported restart mode: \" + WORKFLOW_RUN_POLICY;", "resume"},
		// params functions
		{"params.get('param0')", int64(15)},
		{"params['param0'] + 1", int64(16)},
		{"params.getFromStep('job.3', 'param2') > 0", true},
		{"params.getFromStep('MAESTRO_STEP_ERROR_RETRIES')", int64(2)},
		{"params.getFromInstance('RUN_POLICY')", "RESTART_FROM_INCOMPLETE"},
		{"params.getFromSignal('signal_a', 'watermark')", int64(1700000000)},
		{"params.getFromSignal('foo')", "bar"},
		{"params.getFromSignalDependency('0', 'vtts_utc_dateint')", "20210707"},
		{"params.getFromSignalOrDefault('signal_b', 'x', 'dflt')", "dflt"},
		{"params.getFromSignalOrDefault('signal_a', 'watermark', 'dflt')", int64(1700000000)},
		{"params.getFromForeach('foreach-job1', 'foreach-step1', 'param1')[1]", int64(20)},
		{"params.getFromSubworkflow('subworkflow-job1', 'sub-step1', 'param1')", "done"},
		// Util
		{"Util.dateIntsBetween(20200101, 20200110, 1);", days(20200101, 20200109)},
		{"Util.dateIntsBetween(20200226, 20200303, 1)", []int64{20200226, 20200227, 20200228, 20200229, 20200301, 20200302}},
		{"Util.dateIntsBetween('20200110', '20200101', -3)", []int64{20200107, 20200104, 20200101}},
		{"Util.dateIntsBetween(20200110, 20200101, 1)", []int64{}},
		{"Util.dateIntsBetween(20200101, 20210101, 1).size()", int64(366)},
		{"Util.dateIntsBetween(20200101, 20210101, 1)[365]", int64(20201231)},
		{"Util.intsBetween(1, i, 1);", []int64{1, 2, 3, 4}},
		{"Util.intsBetween(5, 1, -2)", []int64{5, 3}},
		{"Util.intsBetween(1, 1, 0)", []int64{}},
		{"Util.dateIntHourToTs('20210707', '01', 'UTC', 0, 0)", int64(1625619600000)},
		{"Util.dateIntHourToTs(TARGET_RUN_DATE, TARGET_RUN_HOUR, 'UTC', 0, 0)/1000", int64(1625619600)},
		{"Util.dateIntHourToTs('20210707', '01', 'UTC', 1, 2)", int64(1625619600000 - 86_400_000 - 7_200_000)},
		{"Util.dateIntHourToTs(20210707, 1, 'America/Los_Angeles', 0, 0)", int64(1625619600000 + 7*3_600_000)},
		{"Util.dateIntToTs(20200101)", int64(1577836800000)},
		{"Util.tsToDateInt(1577836800000)", "20200101"},
		{"Util.incrementDateInt(20200228, 2)", "20200301"},
		{"Util.incrementDateInt('20200301', -1)", "20200229"},
		// testNow is 2026-03-14T15:09:26.535Z
		{"Util.timeoutForDateIntDeadline(20260314, '1 day')", "31833465 milliseconds"},
		{"Util.timeoutForDateIntDeadline('20260314', '15 hours, 10 minutes and 1 second')", "34465 milliseconds"},
		{"Util.timeoutForDateIntDeadline(20260313, '2 hours')", "0 milliseconds"},
		{"Util.timeoutForDateTimeDeadline(new DateTime(), '1 week')", "604800000 milliseconds"},
		// Joda
		{"new DateTime(1569018000000).withZone(DateTimeZone.forID('UTC')).monthOfYear().getAsText();", "September"},
		{"new DateTime(0).toString()", "1970-01-01T00:00:00.000Z"},
		{"new DateTime(0).withZone(DateTimeZone.forID('America/New_York')).toString()", "1969-12-31T19:00:00.000-05:00"},
		{"new DateTime(0).dayOfWeek().getAsText()", "Thursday"},
		{"new DateTime(0).dayOfWeek().getAsShortText()", "Thu"},
		{"new DateTime(0).getDayOfWeek()", int64(4)},
		{"new DateTime(0).monthOfYear().get()", int64(1)},
		{"new DateTime(86400000 * 40).getDayOfYear()", int64(41)},
		{"DateTimeFormat.forPattern('yyyyMMdd').parseDateTime('20210131').plusMonths(1).toString('yyyyMMdd')", "20210228"},
		{"DateTimeFormat.forPattern('yyyyMMdd').parseDateTime(20210131).minusWeeks(1).toString('yyyy-MM-dd EEE')", "2021-01-24 Sun"},
		{"DateTimeFormat.forPattern('yyyy-MM-dd HH:mm').withZone(DateTimeZone.forID('Asia/Kolkata')).parseMillis('2020-01-01 05:30')", int64(1577836800000)},
		{"DateTimeFormat.forPattern('dd MMM yyyy').print(new DateTime(0))", "01 Jan 1970"},
		{"DateTimeFormat.forPattern('yyyyMMddHH').withZone(DateTimeZone.UTC).print(3600000)", "1970010101"},
		{"Days.daysBetween(new DateTime(0), new DateTime(86400000 * 3 + 5)).getDays()", int64(3)},
		{"new DateTime(0).isBefore(new DateTime(1))", true},
		{"new DateTime(0).plusHours(25).withTimeAtStartOfDay().getMillis()", int64(86400000)},
		{"new DateTime(0).withDayOfMonth(15).withHourOfDay(6).toString('yyyy-MM-dd HH')", "1970-01-15 06"},
		{"new DateTime().getYear()", int64(2026)},
		{"System.currentTimeMillis()", testNow.UnixMilli()},
		{"DateTimeConstants.SUNDAY", int64(7)},
		{"\nDateTimeFormatter tz_dateint_hour_formatter = DateTimeFormat\n    .forPattern(\"yyyyMMddHH\")\n    .withZone(DateTimeZone.forID(\"UTC\"));\n\nDateTime dt = tz_dateint_hour_formatter\n    .parseDateTime(TARGET_RUN_DATE + \"00\")\n    .minusDays(0)\n    .minusHours(0);\n\ndt.withZone(DateTimeZone.forID(\"UTC\")).toString(\"HH\");\n", "00"},
		// strings, arrays, maps
		{"s.length()", int64(5)},
		{"s.toUpperCase()", "HELLO"},
		{"s.toLowerCase()", "hello"},
		{"' x '.trim()", "x"},
		{"s.contains('ell')", true},
		{"s.startsWith('He') && s.endsWith('lo')", true},
		{"s.substring(1, 3)", "el"},
		{"s.substring(3)", "lo"},
		{"s.indexOf('l')", int64(2)},
		{"s.replace('l', 'L')", "HeLLo"},
		{"s.equals('Hello')", true},
		{"'A'.equalsIgnoreCase('a')", true},
		{"'b'.compareTo('a')", int64(1)},
		{"''.isEmpty()", true},
		{"'abc'.matches('[a-c]+')", true},
		{"'abc'.matches('b')", false},
		{"'a,b,,c,,'.split(',')", []string{"a", "b", "", "c"}},
		{"'a1b22c'.split('[0-9]+')", []string{"a", "b", "c"}},
		{"'a,b,c'.split(',', 2)", []string{"a", "b,c"}},
		{"new long[]{1, 2, 3}", []int64{1, 2, 3}},
		{"new String[]{'a', 'b'}[1]", "b"},
		{"new double[]{1.5, 2}", []any{1.5, int64(2)}},
		{"arr.length", int64(3)},
		{"arr[0] + arr[2]", int64(4)},
		{"param1.size()", int64(3)},
		{"m['k']", int64(1)},
		{"m.get('k')", int64(1)},
		{"m.containsKey('k')", true},
		{"m", map[string]any{"k": int64(1)}},
		// classes
		{"Math.min(3, 5)", int64(3)},
		{"Math.max(i, 2)", int64(5)},
		{"Math.abs(-3)", int64(3)},
		{"Math.pow(2, 10)", 1024.0},
		{"String.valueOf(12)", "12"},
		{"Integer.parseInt('42') + 1", int64(43)},
		{"Long.valueOf('42')", int64(42)},
		{"Double.parseDouble('1.5')", 1.5},
		{"Boolean.parseBoolean('TRUE')", true},
		{"new String('x')", "x"},
		{"String.format('Q%s-%s', 1, 2026)", "Q1-2026"},
		{"String.format('%d%%', i)", "5%"},
		{"String.join(',', param1)", "a,b,c"},
		{"String.join('-', 'x', 'y')", "x-y"},
		// Maestro's SEL guide, examples 2, 4 and 5
		{"return Util.dateIntsBetween(startDateTime, endDateTime, 7);", []int64{20190101, 20190108, 20190115, 20190122, 20190129}},
		{`new DateTime(System.currentTimeMillis()).withZone(DateTimeZone.UTC).toString("yyyy-MM-dd HH:mm:ss.SSSSSS");`, "2026-03-14 15:09:26.535000"},
		{"DateTime dt = new DateTime().withZone(DateTimeZone.forID('US/Pacific'));\nreturn String.format('Q%s-%s', ((dt.getMonthOfYear() - 1) / 3) + 1, dt.getYear());", "Q1-2026"},
	}
	for _, c := range cases {
		got, p, err := eval(t, c.src)
		if err != nil {
			t.Errorf("%q (CEL %s): %v", c.src, p.CEL(), err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q (CEL %s) = %#v, want %#v", c.src, p.CEL(), got, c.want)
		}
	}
}

func TestUUID(t *testing.T) {
	got, p, err := eval(t, "return UUID.randomUUID().toString();")
	if err != nil {
		t.Fatal(err)
	}
	if p.CEL() != "sel.randomUUID()" {
		t.Errorf("CEL = %s", p.CEL())
	}
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(got.(string)) {
		t.Errorf("UUID %q", got)
	}
	again, _, _ := eval(t, "UUID.randomUUID().toString()")
	if again == got {
		t.Errorf("two UUIDs are both %q", got)
	}
}

func TestCEL(t *testing.T) {
	cases := map[string]string{
		"i + 1":                               "sel.add(i, 1)",
		"1 + 2 * 3":                           "1 + 2 * 3",
		"(1 + 2) * 3":                         "(1 + 2) * 3",
		"param1 != null && param1.size() > 2": "param1 != null && size(param1) > 2",
		"params.getFromStep('job.3', 'param2') > 0": "params.getFromStep('job.3', 'param2') > 0",
		"x = 1; x + 1": "cel.bind(x, 1, x + 1)",
		"if (i > 1) return 'a'; else return 'b';": "i > 1 ? 'a' : 'b'",
		"'it\\'s'":        `'it\'s'`,
		"!(i > 1)":        "!(i > 1)",
		"1 - (2 - 3)":     "1 - (2 - 3)",
		"1 - 2 - 3":       "1 - 2 - 3",
		"i > 1 ? 1 : 'a'": "i > 1 ? dyn(1) : dyn('a')",
		"i > 1 ? 1 : 2.5": "i > 1 ? double(1) : 2.5",
	}
	for src, want := range cases {
		p, err := Compile(src, testEnv())
		if err != nil {
			t.Errorf("%q: %v", src, err)
			continue
		}
		if p.CEL() != want {
			t.Errorf("%q: CEL %s, want %s", src, p.CEL(), want)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	cases := []struct{ src, want string }{
		{"while (true) {}", "line 1 col 1: while loop is not supported"},
		{"for (x = 0; x < 3; x += 1) {}", "line 1 col 1: for loop is not supported"},
		{"x = 1;\n  Foo f = 1; f", "line 2 col 3: class Foo is not supported"},
		{"new HashMap()", "line 1 col 1: class HashMap is not supported"},
		{"Map m = new Map(); m.put('a', 1);", "line 1 col 9: class Map is not supported"},

		{"params.nextUniqueId()", "params.nextUniqueId is not supported"},
		{"Util.timeoutForDateTimeDeadline(20200101, '1 day')", "line 1 col 33: argument 1 of Util.timeoutForDateTimeDeadline cannot be a long"},
		{"Math.random()", "method Math.random is not supported"},
		{"unknown + 1", "line 1 col 1: unknown identifier unknown"},
		{"i++", "line 1 col 2: operator ++ is not supported"},
		{"1 << 2", "line 1 col 3: operator << is not supported"},
		{"(long) i", "line 1 col 1: type casts are not supported"},
		{"DateTimeZone.forID('Mars/Base')", `line 1 col 20: unknown time zone "Mars/Base"`},
		{"DateTimeFormat.forPattern('yyyy-QQ')", `letter 'Q' is not supported`},
		{"DateTime dt = new DateTime(0);", "ends without a value"},
		{"if (i > 1) return 1;", "ends without a value"},
		{"if (i > 0) x = 1; else x = 2;", "ends without a value"},
		{"if (i > 0) { 1; } else { return 2; }", "ends without a value"},
		{"new DateTime(0)", "value is a DateTime"},
		{"'abc' - 1", "line 1 col 7: operator - on a String"},
		{"1 +", "unexpected end of expression"},
		{"'abc", "line 1 col 1: string is not closed"},
		{"foo(1)", "line 1 col 1: function foo is not supported"},
		{"s.charAt(0)", "method charAt with 1 arguments is not supported"},
		{"new DateTime(0).getEra()", "method DateTime.getEra with 0 arguments is not supported"},
		{"x = (y = 1) + 1", "assignment inside an expression is not supported"},
		{"@daily", `line 1 col 1: unexpected "@"`},
		{"i = 1; i + 1; in = 2; in", "a variable cannot be named in"},
		{"", "empty expression"},
		{"0x10", "hexadecimal literals are not supported"},
		{`'a\0'`, `unknown escape \0`},
		{"99999999999999999999", "integer 99999999999999999999 is out of range"},
		{"String.valueOf(1, 2)", "String.valueOf takes [1] arguments, not 2"},
		// kinds known at Compile that CEL's type checker would refuse
		{"0.substring(0)", "line 1 col 3: method substring of a long is not supported"},
		{"s.substring('a')", "line 1 col 13: argument 1 of substring must be a long, not a String"},
		{"1 ? 2 : 3", "line 1 col 1: condition is a long, not a boolean"},
		{"'abc'[0]", "indexing a String is not supported"},
		{"new long[]{1}['a']", "a String index of a array"},
		{"Math.min('a', 1)", "argument 1 of Math.min cannot be a String"},
		{"Integer.parseInt(true)", "argument 1 of Integer.parseInt cannot be a boolean"},
		{"new long[]{1} < new long[]{2}", "operator < on a array is not supported"},
		{"s.matches(1)", "argument 1 of matches must be a String, not a long"},
		{"String.join(1, param1)", "argument 1 of String.join cannot be a long"},
		{"new DateTime(0) + 1", "operator + on a DateTime is not supported"},
		{"String.format('%5.2f', d)", "only %s, %d, %n and %% are supported"},
		// Maestro's SEL guide, examples 1 and 3
		{"for (int i = 0; i < strParam.length; i += 1) {\n  if (strParam[i].isEmpty()) {\n    throw i + '-th element in the array is empty. Please check the input.';\n  }\n}\nreturn String.join(',', strParam);", "line 1 col 1: for loop is not supported"},
		{"if (!d1.isBefore(d2)) {\n  return new int[0];\n}", "line 2 col 10: new int[n] is not supported"},
	}
	for _, c := range cases {
		_, err := Compile(c.src, testEnv())
		var serr *Error
		if !errors.As(err, &serr) || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "SEL: line ") {
			t.Errorf("Compile(%q) = %v, want an *Error containing %q", c.src, err, c.want)
		}
	}
}

func TestEvalErrors(t *testing.T) {
	cases := []struct{ src, want string }{
		{"1 / zero", "/ by zero"},
		{"1 / 0", "division by zero"},
		{"params.get('missing')", "params.get('missing'): missing is not defined"},
		{"params.getFromStep('job.9', 'x')", "params.getFromStep('job.9', 'x')"},
		{"Util.dateIntsBetween(20200101, 20200110, 0)", "invalid step 0"},
		{"Util.dateIntsBetween(20200230, 20200310, 1)", "day 30 of month 2"},
		{"Util.intsBetween(5, 1, 0)", "step 0 never reaches"},
		{"'x'.split('(')", "split pattern"},
		{"Util.timeoutForDateIntDeadline(20260314, '1 month')", "months have no fixed duration"},
		{"Util.timeoutForDateIntDeadline(20260314, 'soon')", "want amounts and units"},
		{"DateTimeFormat.forPattern('yyMMdd').parseMillis('210707')", "parsing two-digit years is not supported"},
		{"j - 1", "operator - on a String and a long is not supported"},
		{"String.join(',', new long[]{1, 2})", "no such overload: join"},
		{"new DateTime(0).withDayOfMonth(32).getMillis()", "value 32 for dayOfMonth must be in the range [1,31]"},
	}
	for _, c := range cases {
		_, _, err := eval(t, c.src)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want one containing %q", c.src, err, c.want)
		}
	}
}

func TestThrow(t *testing.T) {
	_, _, err := eval(t, "if (i > 1) throw 'bad value: ' + i; return 1;")
	var th *ThrowError
	if !errors.As(err, &th) || th.Msg != "bad value: 5" {
		t.Fatalf("error %v, want a *ThrowError with bad value: 5", err)
	}
}

func TestUnknownLookup(t *testing.T) {
	p, err := Compile("i + 1", Env{Vars: []string{"i"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Eval(context.Background(), fakeScope{})
	if err == nil || !strings.Contains(err.Error(), "param i is not defined") {
		t.Fatalf("error %v, want param i is not defined", err)
	}
}

func TestOptionalScopesMissing(t *testing.T) {
	p, err := Compile("params.getFromSignalDependency('0', 'x')", Env{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Eval(context.Background(), plainScope{testScope()})
	if err == nil || !strings.Contains(err.Error(), "no signal dependencies") {
		t.Fatalf("error %v, want no signal dependencies", err)
	}
	p, err = Compile("params.getFromForeach('a', 'b', 'c')", Env{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Eval(context.Background(), plainScope{testScope()})
	if err == nil || !strings.Contains(err.Error(), "no foreach steps") {
		t.Fatalf("error %v, want no foreach steps", err)
	}
}

// plainScope is a Scope without signal dependencies: it has only the
// methods of the Scope interface.
type plainScope struct{ Scope }

func TestBudget(t *testing.T) {
	small := celbudget.Budget{Cost: 1000, MaxSize: 10_000, Timeout: time.Second}
	env := testEnv()
	env.Budget = small
	cases := []struct{ src, limit string }{
		{"Util.intsBetween(0, 100000, 1)", "size"},
		{"Util.dateIntsBetween(19000101, 29000101, 1)", "size"},
		{"Util.intsBetween(0, 5000, 1).contains(4999)", "cost"},
		// each within the limit, together over it
		{"Util.intsBetween(0, 6000, 1).size() + Util.intsBetween(0, 6000, 1).size()", "size"},
	}
	for _, c := range cases {
		p, err := Compile(c.src, env)
		if err != nil {
			t.Errorf("Compile(%q): %v", c.src, err)
			continue
		}
		_, err = p.Eval(context.Background(), testScope())
		var ex *celbudget.ExceededError
		if !errors.As(err, &ex) || ex.Limit != c.limit {
			t.Errorf("%q: error %v, want the %s limit exceeded", c.src, err, c.limit)
		}
	}
	// The same expressions are within the default budget.
	p, err := Compile("Util.intsBetween(0, 5000, 1).contains(4999)", testEnv())
	if err != nil {
		t.Fatal(err)
	}
	if v, err := p.Eval(context.Background(), testScope()); err != nil || v != true {
		t.Errorf("within the default budget: %v, %v", v, err)
	}
}

func TestReads(t *testing.T) {
	p, err := Compile("x = i + 1; if (d > 1) return s; return j + x;", testEnv())
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Reads(); !reflect.DeepEqual(got, []string{"d", "i", "j", "s"}) {
		t.Errorf("Reads() = %v, want [d i j s]", got)
	}
	p, err = Compile("params.getFromStep('job.3', 'a') + params.getFromStep('job.1', 'b') + params.getFromStep('MAESTRO_STEP_ERROR_RETRIES') + params.getFromStep(j, 'c')", testEnv())
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Steps(); !reflect.DeepEqual(got, []string{"job.1", "job.3"}) {
		t.Errorf("Steps() = %v, want [job.1 job.3]", got)
	}
}

// TestIfChainBounded checks that a list of if statements, each of which
// copies the statements after it into both its branches, is refused when
// the translation grows too long rather than growing without bound.
func TestIfChainBounded(t *testing.T) {
	src := strings.Repeat("if (i > 0) x = 1; else x = 2; ", 40) + "return x + s;"
	_, err := Compile(src, testEnv())
	if err == nil || !strings.Contains(err.Error(), "translated expression is longer than") {
		t.Fatalf("error %v, want the translation refused as too long", err)
	}
	short := strings.Repeat("if (i > 0) x = 1; else x = 2; ", 4) + "return x;"
	if v, _, err := eval(t, short); err != nil || v != int64(1) {
		t.Fatalf("%q = %v, %v; want 1", short, v, err)
	}
}

// TestNames checks params whose names CEL gives a meaning to.
func TestNames(t *testing.T) {
	env := Env{Vars: []string{"sel", "joda", "size", "in", "caf\u00e9"}}
	p, err := Compile("sel + joda + size + 1", env)
	if err != nil {
		t.Fatal(err)
	}
	s := fakeScope{vars: map[string]any{"sel": int64(1), "joda": int64(2), "size": int64(3)}}
	if v, err := p.Eval(context.Background(), s); err != nil || v != int64(7) {
		t.Errorf("sel + joda + size + 1 = %v, %v (CEL %s)", v, err, p.CEL())
	}
	for _, src := range []string{"in + 1", "caf\u00e9 + 1"} {
		if _, err := Compile(src, env); err == nil || !strings.Contains(err.Error(), "CEL does not allow the name") {
			t.Errorf("Compile(%q) = %v, want the name refused", src, err)
		}
	}
}

func TestEvalBool(t *testing.T) {
	for src, want := range map[string]bool{"i > 3": true, "params.getFromStep('job.3', 'param2') < 0": false} {
		p, err := Compile(src, testEnv())
		if err != nil {
			t.Fatal(err)
		}
		if got, err := p.EvalBool(context.Background(), testScope()); err != nil || got != want {
			t.Errorf("%q = %v, %v; want %v", src, got, err, want)
		}
	}
	p, err := Compile("i + 1", testEnv())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.EvalBool(context.Background(), testScope()); err == nil || !strings.Contains(err.Error(), "must be true or false, got int64 6") {
		t.Errorf("EvalBool(i + 1): %v, want an error naming the value", err)
	}
}

// TestConcurrentEval evaluates one program from several goroutines with
// different scopes (run with -race).
func TestConcurrentEval(t *testing.T) {
	p, err := Compile("x = i * 2; if (x > 10) return 'big ' + x; return 'small ' + x;", testEnv())
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		go func(g int) {
			s := testScope()
			s.vars = map[string]any{"i": int64(g)}
			for n := 0; n < 200; n++ {
				v, err := p.Eval(context.Background(), s)
				want := "small " + strconv.Itoa(2*g)
				if g*2 > 10 {
					want = "big " + strconv.Itoa(2*g)
				}
				if err != nil || v != want {
					errs <- fmt.Errorf("goroutine %d: %v, %w; want %s", g, v, err, want)
					return
				}
			}
			errs <- nil
		}(g)
	}
	for g := 0; g < 8; g++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// errScope fails every lookup with errNotReady.
type errScope struct{ fakeScope }

var errNotReady = errors.New("not evaluated yet")

func (errScope) FromStep(step, name string) (any, error) { return nil, errNotReady }

func TestScopeErrorWrapped(t *testing.T) {
	p, err := Compile("params.getFromStep('job.1', 'x') + 1", Env{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Eval(context.Background(), errScope{})
	if !errors.Is(err, errNotReady) || !strings.Contains(err.Error(), "params.getFromStep('job.1', 'x'): not evaluated yet") {
		t.Fatalf("error %v, want errNotReady wrapped with the call", err)
	}
}
