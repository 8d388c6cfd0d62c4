package stack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

// evalBoth evaluates req through a tiered source and through the store,
// and fails unless the answers are equal bit for bit.
func evalBoth(t *testing.T, tier *Tier, db *tsdb.DB, req Request) *Result {
	t.Helper()
	ctx := context.Background()
	got, err := (&Evaluator{Source: TieredSource{Tier: tier, Store: TSDBSource{DB: db}}}).Evaluate(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	want, err := (&Evaluator{Source: TSDBSource{DB: db}}).Evaluate(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Exprs) != len(want.Exprs) {
		t.Fatalf("%d expressions, want %d", len(got.Exprs), len(want.Exprs))
	}
	for i, e := range want.Exprs {
		if len(got.Exprs[i].Lines) != len(e.Lines) {
			t.Fatalf("%s: %d lines, want %d", req.Query, len(got.Exprs[i].Lines), len(e.Lines))
		}
		for j, l := range e.Lines {
			g := got.Exprs[i].Lines[j]
			if g.Label != l.Label || !tierSame(l.Values, g.Values, false) {
				t.Fatalf("%s, line %s: tiered %v, store %v", req.Query, l.Label, g.Values, l.Values)
			}
		}
	}
	return got
}

// fetchCounts returns the tier's count of fetches it answered and of
// those the store answered.
func fetchCounts(tier *Tier) (int64, int64) {
	st := tier.Stats()
	return st.FromTier, st.FromStore
}

// minuteSeries appends one sample a minute for each series from from to
// to (ms), valued by the series' index.
func minuteSeries(t *testing.T, db *tsdb.DB, series []tsdb.Labels, from, to int64) {
	t.Helper()
	var w []testSample
	for ts := from; ts <= to; ts += minuteMs {
		for i, ls := range series {
			w = append(w, testSample{ls, ts, float64(i + 1)})
		}
	}
	ingest(t, db, w)
}

func nodes(name string, n int) []tsdb.Labels {
	out := make([]tsdb.Labels, n)
	for i := range out {
		out[i] = tsdb.FromStrings(tsdb.MetricName, name, "node", fmt.Sprintf("i-%03d", i))
	}
	return out
}

// TestTierAdmission: the first graph of a query reads the store and
// admits the query; the second reads the tier, with the same answer.
// Series of other names stay out of the tier.
func TestTierAdmission(t *testing.T) {
	db := openTierStore(t)
	now := time.Now().Truncate(time.Minute)
	minuteSeries(t, db, append(nodes("sps", 20), nodes("other", 30)...), now.Add(-3*time.Hour).UnixMilli(), now.UnixMilli())
	tier := NewTier(6*time.Hour, nil)
	tier.Attach(db)
	defer tier.Detach(db)
	ctx := context.Background()

	req := Request{Query: "name,sps,:eq,(,node,),:by,name,sps,:eq,:sum", Start: now.Add(-2 * time.Hour), End: now, Step: time.Minute}
	first := evalBoth(t, tier, db, req)
	if fromTier, fromStore := fetchCounts(tier); fromTier != 0 || fromStore != 2 {
		t.Fatalf("first graph: %d fetches from the tier, %d from the store; want 0 and 2", fromTier, fromStore)
	}
	if st := tier.Stats(); st.Series != 0 {
		t.Fatalf("%d series in the tier before admission", st.Series)
	}
	tier.AdmitRequested(ctx, db)
	if st := tier.Stats(); st.Series != 20 || st.Queries != 1 {
		t.Fatalf("after admission: %+v, want 20 series of 1 query", st)
	}
	second := evalBoth(t, tier, db, req)
	if fromTier, fromStore := fetchCounts(tier); fromTier != 2 || fromStore != 2 {
		t.Fatalf("second graph: %d fetches from the tier in all, %d from the store; want 2 and 2", fromTier, fromStore)
	}
	for i, e := range first.Exprs {
		for j, l := range e.Lines {
			if g := second.Exprs[i].Lines[j]; g.Label != l.Label || !tierSame(l.Values, g.Values, false) {
				t.Fatalf("line %s: first %v, second %v", l.Label, l.Values, g.Values)
			}
		}
	}
	// A range before the window, or a 30 s step, is the store's and admits
	// nothing.
	old := Request{Query: "name,other,:eq,:sum", Start: now.Add(-9 * time.Hour), End: now, Step: time.Minute}
	evalBoth(t, tier, db, old)
	tier.AdmitRequested(ctx, db)
	if st := tier.Stats(); st.Series != 20 {
		t.Fatalf("a graph before the window admitted series: %+v", st)
	}
}

// TestTierNewSeries: series that appear after their query was admitted,
// by ingest or by backfill, are in its answers, from the store while they
// warm up and from the tier afterwards.
func TestTierNewSeries(t *testing.T) {
	db := openTierStore(t)
	now := time.Now().Truncate(time.Minute)
	from := now.Add(-3 * time.Hour).UnixMilli()
	minuteSeries(t, db, nodes("sps", 5), from, now.UnixMilli()-10*minuteMs)
	minuteSeries(t, db, nodes("other", 5), from, now.UnixMilli()-10*minuteMs) // seen by the tier, not admitted
	tier := NewTier(6*time.Hour, nil)
	tier.Attach(db)
	defer tier.Detach(db)
	ctx := context.Background()
	minuteSeries(t, db, append(nodes("sps", 5), nodes("other", 5)...), now.UnixMilli()-9*minuteMs, now.UnixMilli()-9*minuteMs)
	if err := tier.Admit(ctx, db, Equal{"name", "sps"}); err != nil {
		t.Fatal(err)
	}
	req := Request{Query: "name,sps,:eq,(,node,),:by", Start: now.Add(-3 * time.Hour), End: now.Add(time.Minute), Step: time.Minute}
	if got := evalBoth(t, tier, db, req); len(got.Exprs[0].Lines) != 5 {
		t.Fatalf("%d lines, want 5", len(got.Exprs[0].Lines))
	}
	fromTier, fromStore := fetchCounts(tier)

	// A new series with the name, and one with an older sample too.
	late := tsdb.FromStrings(tsdb.MetricName, "sps", "node", "late")
	older := tsdb.FromStrings(tsdb.MetricName, "sps", "node", "older")
	minuteSeries(t, db, []tsdb.Labels{late, older}, now.UnixMilli()-5*minuteMs, now.UnixMilli()-4*minuteMs)
	minuteSeries(t, db, []tsdb.Labels{older}, now.UnixMilli()-3*minuteMs, now.UnixMilli())
	if st := tier.Stats(); st.Series != 7 {
		t.Fatalf("the new series did not join at ingest: %+v", st)
	}
	if got := evalBoth(t, tier, db, req); len(got.Exprs[0].Lines) != 7 {
		t.Fatalf("%d lines while the new series warm up, want 7", len(got.Exprs[0].Lines))
	}
	if ft, fs := fetchCounts(tier); ft != fromTier || fs != fromStore+1 {
		t.Fatalf("while new series warm up: %d more fetches from the tier, %d from the store; want 0 and 1", ft-fromTier, fs-fromStore)
	}
	tier.AdmitRequested(ctx, db)
	if got := evalBoth(t, tier, db, req); len(got.Exprs[0].Lines) != 7 {
		t.Fatalf("%d lines after the warm-up, want 7", len(got.Exprs[0].Lines))
	}
	if ft, _ := fetchCounts(tier); ft != fromTier+1 {
		t.Fatal("the tier did not answer once the new series were warm")
	}
	// Admitting the other name finds its series, seen and ignored before.
	if err := tier.Admit(ctx, db, Equal{"name", "other"}); err != nil {
		t.Fatal(err)
	}
	minuteSeries(t, db, nodes("other", 6), now.UnixMilli()-2*minuteMs, now.UnixMilli()-2*minuteMs)
	tier.AdmitRequested(ctx, db)
	if got := evalBoth(t, tier, db, Request{Query: "name,other,:eq,(,node,),:by", Start: now.Add(-3 * time.Hour), End: now.Add(time.Minute), Step: time.Minute}); len(got.Exprs[0].Lines) != 6 {
		t.Fatalf("%d lines of other, want 6", len(got.Exprs[0].Lines))
	}

	// A series written only by backfill, before the head.
	if err := db.Compact(); err != nil {
		t.Fatal(err)
	}
	back := tsdb.FromStrings(tsdb.MetricName, "sps", "node", "backfilled")
	a := db.Appender()
	if _, err := a.Append(0, back, from+30*minuteMs, 7); err != nil {
		t.Fatal(err)
	}
	if err := a.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := db.Compact(); err != nil {
		t.Fatal(err)
	}
	// Run does this as soon as the store tells the tier.
	tier.rereadBackfill(ctx, db)
	tier.AdmitRequested(ctx, db)
	if st := tier.Stats(); st.Series != 14 {
		t.Fatalf("the backfilled series did not join: %+v", st)
	}
	if got := evalBoth(t, tier, db, req); len(got.Exprs[0].Lines) != 8 {
		t.Fatalf("%d lines with the backfilled series, want 8", len(got.Exprs[0].Lines))
	}
}

// TestTierIdle moves a fake clock: series and queries no fetch read for
// the idle time leave the tier, those read stay; a dropped query is
// admitted again by its next graph.
func TestTierIdle(t *testing.T) {
	db := openTierStore(t)
	clock := time.Now().Add(-5 * time.Hour).Truncate(time.Minute) // the store refuses the future
	tier := NewTier(time.Hour, func() time.Time { return clock })
	tier.SetOptions(TierOptions{Idle: 3 * time.Hour})
	tier.Attach(db)
	defer tier.Detach(db)
	ctx := context.Background()
	a, b := nodes("a", 10), nodes("b", 10)
	minuteSeries(t, db, append(slices.Clone(a), b...), clock.Add(-time.Hour).UnixMilli(), clock.UnixMilli())
	for _, name := range []string{"a", "b"} {
		if err := tier.Admit(ctx, db, Equal{"name", name}); err != nil {
			t.Fatal(err)
		}
	}
	if st := tier.Stats(); st.Series != 20 || st.Queries != 2 {
		t.Fatalf("%+v, want 20 series of 2 queries", st)
	}
	// Every hour, new data, and a graph of a only.
	for h := 1; h <= 4; h++ {
		clock = clock.Add(time.Hour)
		minuteSeries(t, db, append(slices.Clone(a), b...), clock.Add(-59*time.Minute).UnixMilli(), clock.UnixMilli())
		tier.Sweep()
		req := Request{Query: "name,a,:eq,:sum", Start: clock.Add(-time.Hour), End: clock, Step: time.Minute}
		evalBoth(t, tier, db, req)
	}
	st := tier.Stats()
	if st.Series != 10 || st.Queries != 1 {
		t.Fatalf("after 4 idle hours of b: %+v, want a's 10 series of 1 query", st)
	}
	if fromTier, fromStore := fetchCounts(tier); fromTier != 4 || fromStore != 0 {
		t.Fatalf("%d fetches from the tier, %d from the store; want 4 and 0", fromTier, fromStore)
	}
	// b's next graph reads the store, and admits b again.
	req := Request{Query: "name,b,:eq,:sum", Start: clock.Add(-time.Hour), End: clock, Step: time.Minute}
	evalBoth(t, tier, db, req)
	tier.AdmitRequested(ctx, db)
	evalBoth(t, tier, db, req)
	if fromTier, fromStore := fetchCounts(tier); fromTier != 5 || fromStore != 1 {
		t.Fatalf("%d fetches from the tier, %d from the store; want 5 and 1", fromTier, fromStore)
	}
	// Nothing read for the idle time: the tier is empty.
	clock = clock.Add(4 * time.Hour)
	tier.Sweep()
	if st := tier.Stats(); st.Series != 0 || st.Queries != 0 || st.Bytes != 0 {
		t.Fatalf("after 4 hours without graphs: %+v", st)
	}
	// A query whose graphs read the store (its series warming up) is not
	// kept by them while its series go idle.
	if err := tier.Admit(ctx, db, Equal{"name", "a"}); err != nil {
		t.Fatal(err)
	}
	for h := 0; h < 4; h++ {
		clock = clock.Add(time.Hour)
		tier.Request(Equal{"name", "a"})
		tier.Sweep()
	}
	if st := tier.Stats(); st.Series != 0 || st.Queries != 0 {
		t.Fatalf("requests kept a query whose series no fetch read: %+v", st)
	}
	// Samples of the dropped series are ignored again.
	var state any
	tier.ObserveSample(&state, a[0], clock.UnixMilli(), 1)
	if st := tier.Stats(); st.Series != 0 {
		t.Fatalf("a sample brought a dropped series back: %+v", st)
	}
}

// TestTierUnused: a store of 100,000 series with a tier attached but no
// Atlas graph holds nothing in the tier, and its samples went through the
// tier's first comparison only.
func TestTierUnused(t *testing.T) {
	db := openTierStore(t)
	tier := NewTier(6*time.Hour, nil)
	tier.Attach(db)
	defer tier.Detach(db)
	const n = 100_000
	now := time.Now().Truncate(time.Minute).UnixMilli()
	for r := int64(0); r < 3; r++ {
		a := db.Appender()
		for i := 0; i < n; i++ {
			ls := tsdb.FromStrings(tsdb.MetricName, "up", "instance", fmt.Sprintf("host-%06d", i))
			if _, err := a.Append(0, ls, now-(3-r)*10_000, 1); err != nil {
				t.Fatal(err)
			}
		}
		if err := a.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	st := tier.Stats()
	if st.Series != 0 || st.Blocks != 0 || st.Bytes != 0 || st.Queries != 0 {
		t.Fatalf("a tier nobody graphs holds %+v", st)
	}
	tier.mu.RLock()
	defer tier.mu.RUnlock()
	if len(tier.byKey) != 0 || len(tier.all) != 0 || len(tier.byName) != 0 || len(tier.pending) != 0 {
		t.Fatal("the tier's registry is not empty")
	}
}

// TestTierFull: a query whose series would take the tier over its
// MaxSeries is answered by the store and not tried again for a while;
// so is one that a new series would take over it.
func TestTierFull(t *testing.T) {
	db := openTierStore(t)
	now := time.Now().Truncate(time.Minute)
	minuteSeries(t, db, append(nodes("small", 3), nodes("big", 10)...), now.Add(-time.Hour).UnixMilli(), now.UnixMilli())
	tier := NewTier(6*time.Hour, nil)
	tier.SetOptions(TierOptions{MaxSeries: 5, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	tier.Attach(db)
	defer tier.Detach(db)
	ctx := context.Background()
	if err := tier.Admit(ctx, db, Equal{"name", "small"}); err != nil {
		t.Fatal(err)
	}
	big := Request{Query: "name,big,:eq,:sum", Start: now.Add(-time.Hour), End: now, Step: time.Minute}
	evalBoth(t, tier, db, big)
	tier.AdmitRequested(ctx, db)
	if st := tier.Stats(); st.Series != 3 || st.Refused != 1 || st.Queries != 1 {
		t.Fatalf("%+v, want 3 series, 1 query and 1 refusal", st)
	}
	evalBoth(t, tier, db, big)
	tier.AdmitRequested(ctx, db)
	if st := tier.Stats(); st.Refused != 1 || st.FromStore != 2 {
		t.Fatalf("a refused query was tried again at once: %+v", st)
	}
	if err := tier.Admit(ctx, db, Equal{"name", "big"}); !errors.Is(err, ErrTierFull) {
		t.Fatalf("Admit: %v, want ErrTierFull", err)
	}
	// Three new series of small: the third does not fit, and small goes
	// back to the store.
	minuteSeries(t, db, nodes("small", 6), now.UnixMilli(), now.UnixMilli())
	tier.AdmitRequested(ctx, db)
	st := tier.Stats()
	if st.Queries != 0 || st.Refused != 3 {
		t.Fatalf("%+v, want no query and 3 refusals", st)
	}
	small := Request{Query: "name,small,:eq,(,node,),:by", Start: now.Add(-time.Hour), End: now.Add(time.Minute), Step: time.Minute}
	if got := evalBoth(t, tier, db, small); len(got.Exprs[0].Lines) != 6 {
		t.Fatalf("%d lines, want 6", len(got.Exprs[0].Lines))
	}
	if v := evalBoth(t, tier, db, big).Exprs[0].Lines[0].Values; math.IsNaN(v[len(v)-1]) {
		t.Fatal("no data")
	}
}
