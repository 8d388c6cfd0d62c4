package tsdb

import (
	"errors"
	"fmt"
	"math"
	"testing"
	"time"
)

var staleNaN = math.Float64frombits(0x7ff0000000000002)

func TestAppendQueryReopen(t *testing.T) {
	dir := t.TempDir()
	db := openTest(t, dir, testOptions(nil))
	want := map[string][]sample{}
	for i := range 5 {
		ls := FromStrings(MetricName, "up", "job", "api", "instance", fmt.Sprint(i))
		for j := range 100 {
			v := float64(j * i)
			if j == 50 {
				v = staleNaN
			}
			appendOne(t, db, ls, int64(j)*10_000, v)
			want[ls.String()] = append(want[ls.String()], sample{int64(j) * 10_000, v})
		}
	}
	phase := 0
	check := func(db *DB) {
		phase++
		got := query(t, db, 0, math.MaxInt64, nil, MustMatcher(MatchEqual, MetricName, "up"))
		if len(got) != 5 {
			t.Fatalf("phase %d: got %d series", phase, len(got))
		}
		for k, w := range want {
			if !sameSamples(got[k], w) {
				t.Fatalf("%s: got %v, want %v", k, got[k], w)
			}
		}
	}
	check(db)
	db.Close()
	db = openTest(t, dir, testOptions(nil))
	check(db)
	if err := db.FlushHead(); err != nil {
		t.Fatal(err)
	}
	check(db)
	db.Close()
	db = openTest(t, dir, testOptions(nil))
	defer db.Close()
	check(db)
}

func TestMatchers(t *testing.T) {
	db := openTest(t, t.TempDir(), testOptions(nil))
	defer db.Close()
	for _, s := range []Labels{
		FromStrings(MetricName, "http", "path", "/a", "code", "200"),
		FromStrings(MetricName, "http", "path", "/b", "code", "500"),
		FromStrings(MetricName, "http", "path", "/api/v1", "code", "200"),
		FromStrings(MetricName, "http", "path", "/c"),
		FromStrings(MetricName, "cpu", "mode", "idle"),
	} {
		appendOne(t, db, s, 1000, 1)
	}
	if err := db.FlushHead(); err != nil {
		t.Fatal(err)
	}
	appendOne(t, db, FromStrings(MetricName, "http", "path", "/head", "code", "404"), 5_000_000, 1)
	cases := []struct {
		ms   []*Matcher
		want int
	}{
		{[]*Matcher{MustMatcher(MatchEqual, MetricName, "http")}, 5},
		{[]*Matcher{MustMatcher(MatchEqual, MetricName, "http"), MustMatcher(MatchNotEqual, "code", "200")}, 3},
		{[]*Matcher{MustMatcher(MatchEqual, MetricName, "http"), MustMatcher(MatchEqual, "code", "")}, 1},
		{[]*Matcher{MustMatcher(MatchRegexp, "code", "2..|5..")}, 3},
		{[]*Matcher{MustMatcher(MatchRegexp, "path", "/a.*")}, 2},
		{[]*Matcher{MustMatcher(MatchRegexp, "path", "a")}, 0}, // anchored
		{[]*Matcher{MustMatcher(MatchNotRegexp, "path", "/a.*"), MustMatcher(MatchEqual, MetricName, "http")}, 3},
		{[]*Matcher{MustMatcher(MatchRegexp, "code", ".+")}, 4},
		{[]*Matcher{MustMatcher(MatchRegexp, MetricName, "cpu|http")}, 6},
		{[]*Matcher{MustMatcher(MatchRegexp, "path", "(?i)/A")}, 1},
		{nil, 6},
	}
	for _, c := range cases {
		got := query(t, db, 0, math.MaxInt64, nil, c.ms...)
		if len(got) != c.want {
			t.Errorf("%v: got %d series, want %d: %v", c.ms, len(got), c.want, got)
		}
	}
	q, _ := db.Querier(0, math.MaxInt64)
	defer q.Close()
	names, _ := q.LabelNames()
	if fmt.Sprint(names) != "[__name__ code mode path]" {
		t.Errorf("label names: %v", names)
	}
	vals, _ := q.LabelValues("code", MustMatcher(MatchEqual, "path", "/b"))
	if fmt.Sprint(vals) != "[500]" {
		t.Errorf("label values: %v", vals)
	}
	vals, _ = q.LabelValues("path")
	if len(vals) != 5 {
		t.Errorf("label values: %v", vals)
	}
}

func TestOutOfOrderAndDuplicates(t *testing.T) {
	o := testOptions(nil)
	o.OutOfOrderWindow = 120_000 * 1e6
	o.BackfillWindow = 0 // persisted time is refused (backfill_test.go covers it on)
	db := openTest(t, t.TempDir(), o)
	defer db.Close()
	ls := FromStrings(MetricName, "m")
	appendOne(t, db, ls, 100_000, 1)
	appendOne(t, db, ls, 200_000, 2)
	a := db.Appender()
	if _, err := a.Append(0, ls, 200_000, 2); err != nil {
		t.Fatalf("identical duplicate: %v", err)
	}
	if _, err := a.Append(0, ls, 200_000, 3); !errors.Is(err, ErrDuplicateSample) {
		t.Fatalf("conflicting duplicate: %v", err)
	}
	if _, err := a.Append(0, ls, 150_000, 1.5); err != nil {
		t.Fatalf("out of order within window: %v", err)
	}
	if _, err := a.Append(0, ls, 100_000, 7); !errors.Is(err, ErrDuplicateSample) {
		t.Fatalf("conflicting duplicate of an older sample: %v", err)
	}
	if _, err := a.Append(0, ls, 100_000, 1); err != nil {
		t.Fatalf("identical duplicate of an older sample: %v", err)
	}
	if _, err := a.Append(0, ls, 100, 1); !errors.Is(err, ErrOutOfOrder) {
		t.Fatalf("out of order beyond window: %v", err)
	}
	if err := a.Commit(); err != nil {
		t.Fatal(err)
	}
	got := query(t, db, 0, math.MaxInt64, nil)[ls.String()]
	want := []sample{{100_000, 1}, {150_000, 1.5}, {200_000, 2}}
	if !sameSamples(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if err := db.FlushHead(); err != nil {
		t.Fatal(err)
	}
	if got := query(t, db, 0, math.MaxInt64, nil)[ls.String()]; !sameSamples(got, want) {
		t.Fatalf("after flush got %v, want %v", got, want)
	}
	a = db.Appender()
	if _, err := a.Append(0, ls, 150_000, 1); !errors.Is(err, ErrTooOld) {
		t.Fatalf("sample in a persisted range: %v", err)
	}
	if _, err := a.Append(0, ls, time.Now().Add(2*time.Hour).UnixMilli(), 1); !errors.Is(err, ErrTooNew) {
		t.Fatalf("sample two hours ahead: %v", err)
	}
	a.Rollback()
}

func TestValidationAndLimits(t *testing.T) {
	o := testOptions(nil)
	o.MaxSeriesPerMetric = 2
	o.MaxSeries = 3
	db := openTest(t, t.TempDir(), o)
	defer db.Close()
	a := db.Appender()
	defer a.Rollback()
	_, err := a.Append(0, FromStrings("job", "x"), 1, 1)
	var ve *ValidationError
	if !errors.As(err, &ve) || !errors.Is(err, ErrInvalidSeries) {
		t.Fatalf("missing name: %v", err)
	}
	_, err = a.Append(0, FromStrings(MetricName, "m", "bad key", "x"), 1, 1)
	if !errors.As(err, &ve) || ve.Tag != "bad key" || ve.Metric != "m" {
		t.Fatalf("bad key: %v", err)
	}
	for i := range 2 {
		if _, err := a.Append(0, FromStrings(MetricName, "m", "i", fmt.Sprint(i)), 1, 1); err != nil {
			t.Fatal(err)
		}
	}
	_, err = a.Append(0, FromStrings(MetricName, "m", "i", "2"), 1, 1)
	var le *LimitError
	if !errors.As(err, &le) || le.Metric != "m" || !le.PerMetric || !errors.Is(err, ErrCardinalityLimit) {
		t.Fatalf("per-metric limit: %v", err)
	}
	if _, err := a.Append(0, FromStrings(MetricName, "n"), 1, 1); err != nil {
		t.Fatal(err)
	}
	_, err = a.Append(0, FromStrings(MetricName, "o"), 1, 1)
	if !errors.As(err, &le) || le.PerMetric || le.Metric != "o" {
		t.Fatalf("total limit: %v", err)
	}
	// Existing series still take samples.
	if _, err := a.Append(0, FromStrings(MetricName, "m", "i", "1"), 2, 1); err != nil {
		t.Fatal(err)
	}
	if err := AtlasValidation.Validate(FromStrings(MetricName, "m", "k", "a/b")); err == nil {
		t.Fatal("Atlas rules accept '/'")
	}
}
