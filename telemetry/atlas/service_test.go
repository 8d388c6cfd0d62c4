package atlas

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/telemetry/atlas/stack"
	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

// fakeMetrics stands in for the metrics system: it owns a store.
type fakeMetrics struct{ db *tsdb.DB }

func (f *fakeMetrics) Start(context.Context) error  { return nil }
func (f *fakeMetrics) Stop(context.Context) error   { return f.db.Close() }
func (f *fakeMetrics) Health(context.Context) error { return nil }
func (f *fakeMetrics) DB() *tsdb.DB                 { return f.db }

func init() {
	platform.Register(platform.Module{Name: "metrics", New: func(_ context.Context, d *platform.Deps) (platform.Service, error) {
		db, err := tsdb.Open(filepath.Join(d.DataDir, "tsdb"), tsdb.DefaultOptions())
		if err != nil {
			return nil, err
		}
		return &fakeMetrics{db: db}, nil
	}})
}

func start(t *testing.T, demo bool) (*platformtest.Server, *tsdb.DB) {
	t.Helper()
	return startOn(t, platformtest.Backend{}, demo)
}

// startOn is start on a database of platformtest.EachBackend.
func startOn(t *testing.T, b platformtest.Backend, demo bool) (*platformtest.Server, *tsdb.DB) {
	t.Helper()
	srv := platformtest.Start(t, platformtest.Options{Backend: b, Demo: demo})
	svc, _ := srv.Deps().Lookup("metrics")
	db := svc.(*fakeMetrics).db
	// Two clusters of "sps" over the last hour, one sample a minute.
	now := time.Now().Truncate(time.Minute)
	a := db.Appender()
	for i := 0; i < 60; i++ {
		ts := now.Add(-time.Duration(59-i) * time.Minute).UnixMilli()
		for j, c := range []string{"a", "b"} {
			ls := tsdb.FromStrings(tsdb.MetricName, "sps", "cluster", c, "node", "n"+c)
			if _, err := a.Append(0, ls, ts, float64(10*(j+1))); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := a.Commit(); err != nil {
		t.Fatal(err)
	}
	return srv, db
}

func TestGraphAPI(t *testing.T) {
	srv, _ := start(t, false)
	read := srv.Token(ReadScope)
	q := url.Values{"q": {"name,sps,:eq,(,cluster,),:by"}, "s": {"e-30m"}, "format": {"json"}}
	resp := srv.Do("GET", "/api/v1/graph?"+q.Encode(), read, nil)
	if resp.Status != 200 {
		t.Fatalf("graph: %d %s", resp.Status, resp.Body)
	}
	var out struct {
		Legend []string    `json:"legend"`
		Values [][]float64 `json:"values"`
	}
	body := strings.ReplaceAll(string(resp.Body), "NaN", "null")
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatal(err)
	}
	if strings.Join(out.Legend, ",") != "(cluster=a),(cluster=b)" || len(out.Values) != 30 {
		t.Fatalf("legend %v, %d rows", out.Legend, len(out.Values))
	}
	if row := out.Values[len(out.Values)-2]; row[0] != 10 || row[1] != 20 {
		t.Fatalf("values %v", row)
	}
	png := srv.Do("GET", "/api/v1/graph?q=name,sps,:eq,:sum", read, nil)
	if png.Status != 200 || png.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("png: %d %s", png.Status, png.Header.Get("Content-Type"))
	}
}

func TestGraphErrors(t *testing.T) {
	srv, _ := start(t, false)
	read := srv.Token(ReadScope)
	for q, want := range map[string]string{
		"name,sps,:eq,:nosuch":             ":nosuch (position 13): unknown word",
		"name,:eq":                         ":eq (position 5): stack underflow",
		"name,sps,:eq,(,a,),:add":          ":add (position 19): type mismatch",
		"name,sps,:eq,:sum&step=1m&s=e-2d": "more than the limit of 1440",
	} {
		parts := strings.SplitN(q, "&", 2)
		u := "/api/v1/graph?q=" + url.QueryEscape(parts[0])
		if len(parts) > 1 {
			u += "&" + parts[1]
		}
		resp := srv.Do("GET", u, read, nil)
		if resp.Status != 400 || !strings.Contains(string(resp.Body), want) {
			t.Errorf("%s: %d %s, want 400 %q", q, resp.Status, resp.Body, want)
		}
	}
}

func TestTags(t *testing.T) {
	srv, _ := start(t, false)
	read := srv.Token(ReadScope)
	var keys, vals []string
	srv.Do("GET", "/api/v1/tags?q=name,sps,:eq", read, nil).JSON(t, &keys)
	srv.Do("GET", "/api/v1/tags/cluster?q=name,sps,:eq", read, nil).JSON(t, &vals)
	if strings.Join(keys, ",") != "cluster,name,node" || strings.Join(vals, ",") != "a,b" {
		t.Fatalf("keys %v values %v", keys, vals)
	}
	resp := srv.Do("GET", "/api/v1/tags/cluster?limit=1", read, nil)
	if resp.Header.Get("X-Nflx-Atlas-Next-Offset") != "a" {
		t.Fatalf("paging header %q", resp.Header.Get("X-Nflx-Atlas-Next-Offset"))
	}
	resp.JSON(t, &vals)
	srv.Do("GET", "/api/v1/tags/cluster?limit=1&offset=a", read, nil).JSON(t, &vals)
	if strings.Join(vals, ",") != "b" {
		t.Fatalf("second page %v", vals)
	}
}

// TestSavedGraphsAndDashboards saves, lists, reads and deletes graphs
// and dashboards on each database.
func TestSavedGraphsAndDashboards(t *testing.T) {
	platformtest.EachBackend(t, func(t *testing.T, b platformtest.Backend) {
		srv, _ := startOn(t, b, true)
		read, write := srv.Token(ReadScope), srv.Token(WriteScope)
		var graphs []SavedGraph
		srv.Do("GET", "/api/v1/atlas/graphs", read, nil).JSON(t, &graphs)
		if len(graphs) != len(DemoGraphs) {
			t.Fatalf("demo graphs: %d", len(graphs))
		}
		if r := srv.Do("POST", "/api/v1/atlas/graphs", read, CreateGraphRequest{Name: "x", Query: "1"}); r.Status != http.StatusForbidden {
			t.Fatalf("read token saved a graph: %d", r.Status)
		}
		bad := srv.Do("POST", "/api/v1/atlas/graphs", write, CreateGraphRequest{Name: "bad", Query: "a,:add"})
		if bad.Status != 400 || !strings.Contains(string(bad.Body), ":add") {
			t.Fatalf("bad graph: %d %s", bad.Status, bad.Body)
		}
		var g SavedGraph
		r := srv.Do("POST", "/api/v1/atlas/graphs", write, CreateGraphRequest{Name: "sps", Query: "name,sps,:eq,:sum", Params: "s=e-1h"})
		if r.Status != 201 {
			t.Fatalf("save: %d %s", r.Status, r.Body)
		}
		r.JSON(t, &g)
		var d Dashboard
		r = srv.Do("POST", "/api/v1/atlas/dashboards", write, CreateDashboardRequest{Name: "mine", Start: "e-1h", GraphIDs: []int64{g.ID}})
		if r.Status != 201 {
			t.Fatalf("dashboard: %d %s", r.Status, r.Body)
		}
		r.JSON(t, &d)
		var got Dashboard
		srv.Do("GET", "/api/v1/atlas/dashboards/"+itoa(d.ID), read, nil).JSON(t, &got)
		if len(got.Graphs) != 1 || got.Graphs[0].Query != "name,sps,:eq,:sum" {
			t.Fatalf("dashboard graphs %+v", got.Graphs)
		}
		if r := srv.Do("DELETE", "/api/v1/atlas/graphs/"+itoa(g.ID), write, nil); r.Status != 204 {
			t.Fatalf("delete: %d", r.Status)
		}
		var after Dashboard
		srv.Do("GET", "/api/v1/atlas/dashboards/"+itoa(d.ID), read, nil).JSON(t, &after)
		if len(after.Graphs) != 0 {
			t.Fatalf("deleting a graph left it on the dashboard")
		}
		var dashboards []Dashboard
		srv.Do("GET", "/api/v1/atlas/dashboards", read, nil).JSON(t, &dashboards)
		if !slices.ContainsFunc(dashboards, func(x Dashboard) bool { return x.ID == d.ID && x.Name == "mine" }) {
			t.Fatalf("dashboard list %+v lacks %d", dashboards, d.ID)
		}
		for _, p := range []string{"/atlas", "/atlas/dashboards/" + itoa(d.ID), "/atlas/static/explorer.js"} {
			if r := srv.Do("GET", p, read, nil); r.Status != 200 {
				t.Fatalf("%s: %d", p, r.Status)
			}
		}
		if r := srv.Do("DELETE", "/api/v1/atlas/dashboards/"+itoa(d.ID), write, nil); r.Status != 204 {
			t.Fatalf("delete dashboard: %d %s", r.Status, r.Body)
		}
		if r := srv.Do("GET", "/api/v1/atlas/dashboards/"+itoa(d.ID), read, nil); r.Status != 404 {
			t.Fatalf("deleted dashboard: %d %s", r.Status, r.Body)
		}
		// Every demo graph evaluates over the store.
		for _, dg := range DemoGraphs {
			if r := srv.Do("GET", "/api/v1/graph?format=stats.json&q="+url.QueryEscape(dg.Query), read, nil); r.Status != 200 {
				t.Errorf("demo graph %q: %d %s", dg.Name, r.Status, r.Body)
			}
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestMemoryTier: the service attaches a memory tier to the store; the
// first graph of a query reads the store and admits the query, later
// ones read the tier, with the store's values.
func TestMemoryTier(t *testing.T) {
	srv, db := start(t, false)
	svc, _ := srv.Deps().Lookup(Name)
	as := svc.(*Service)
	tier := as.Tier()
	if tier == nil || !tier.Ready() {
		t.Fatal("no memory tier attached")
	}
	src, err := as.source()
	if ts, ok := src.(stack.TieredSource); err != nil || !ok || ts.Tier != tier {
		t.Fatalf("source %T (%v), want the tiered source", src, err)
	}
	end := time.Now().Truncate(time.Minute)
	if !tier.Covers(end.Add(-time.Hour).UnixMilli(), end.Add(time.Minute).UnixMilli(), 60_000) {
		t.Fatal("the tier does not cover the last hour")
	}
	read := srv.Token(ReadScope)
	q := url.Values{"q": {"name,sps,:eq,(,cluster,),:by,name,sps,:eq,:sum"}, "format": {"json"},
		"s": {strconv.FormatInt(end.Add(-time.Hour).UnixMilli(), 10)}, "e": {strconv.FormatInt(end.UnixMilli(), 10)}}
	first := srv.Do("GET", "/api/v1/graph?"+q.Encode(), read, nil)
	// The graph fetches twice: the second may find the query admitted.
	if st := tier.Stats(); first.Status != 200 || st.FromStore == 0 {
		t.Fatalf("first graph: %d %s; tier %+v, want it read from the store", first.Status, first.Body, st)
	}
	var fromTier *platformtest.Response
	for deadline := time.Now().Add(30 * time.Second); tier.Stats().FromTier < 2; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no graph read the tier after 30 s: %+v", tier.Stats())
		}
		fromTier = srv.Do("GET", "/api/v1/graph?"+q.Encode(), read, nil)
	}
	as.UseSource(stack.TSDBSource{DB: db})
	fromStore := srv.Do("GET", "/api/v1/graph?"+q.Encode(), read, nil)
	if fromTier.Status != 200 || string(fromTier.Body) != string(fromStore.Body) || string(first.Body) != string(fromStore.Body) {
		t.Fatalf("tier: %d %s\nstore: %d %s", fromTier.Status, fromTier.Body, fromStore.Status, fromStore.Body)
	}
	if !strings.Contains(string(fromTier.Body), "30.0") && !strings.Contains(string(fromTier.Body), "30") {
		t.Fatalf("no sum of 10 and 20 in %s", fromTier.Body)
	}
	if st := tier.Stats(); st.Series == 0 || st.Queries == 0 {
		t.Fatalf("tier %+v after the graphs", st)
	}
}

// TestMemoryTierOff: --atlas-memory-window=0 reads every graph from the
// store.
func TestMemoryTierOff(t *testing.T) {
	srv := platformtest.Start(t, platformtest.Options{Args: []string{"--atlas-memory-window=0"}})
	svc, _ := srv.Deps().Lookup(Name)
	as := svc.(*Service)
	if as.Tier() != nil {
		t.Fatal("a memory tier with --atlas-memory-window=0")
	}
	if src, err := as.source(); err != nil {
		t.Fatal(err)
	} else if _, ok := src.(stack.TSDBSource); !ok {
		t.Fatalf("source %T, want the store", src)
	}
}
