package atlas

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/telemetry/atlas/stack"
)

// TestTierQueriesSurviveRestart: the queries graphs admitted to the
// memory tier are saved in the data directory, and a tier started on the
// same store admits them again without a graph.
func TestTierQueriesSurviveRestart(t *testing.T) {
	srv, db := start(t, false)
	svc, _ := srv.Deps().Lookup(Name)
	as := svc.(*Service)
	end := time.Now().Truncate(time.Minute)
	q := url.Values{"q": {"name,sps,:eq,:sum"}, "format": {"json"},
		"s": {strconv.FormatInt(end.Add(-time.Hour).UnixMilli(), 10)}, "e": {strconv.FormatInt(end.UnixMilli(), 10)}}
	read := srv.Token(ReadScope)
	for deadline := time.Now().Add(30 * time.Second); as.Tier().Stats().Queries == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the graph's query was not admitted: %+v", as.Tier().Stats())
		}
		srv.Do("GET", "/api/v1/graph?"+q.Encode(), read, nil)
	}
	if err := as.saveTierQueries(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(as.tierQueriesPath())
	if err != nil {
		t.Fatal(err)
	}
	var saved []stack.TierQuery
	if err := json.Unmarshal(b, &saved); err != nil || len(saved) != 1 || saved[0].Query != "name,sps,:eq" {
		t.Fatalf("saved %s (%v), want the graph's query", b, err)
	}

	// A new tier on the same store, as after a restart.
	next := stack.NewTier(time.Hour, nil)
	next.Attach(db)
	defer next.Detach(db)
	stale := stack.TierQuery{Query: "name,old,:eq", Used: time.Now().Add(-3 * time.Hour).UnixMilli()}
	bad := stack.TierQuery{Query: "1,2,:add", Used: time.Now().UnixMilli()}
	n, err := next.Readmit(append(saved, stale, bad))
	if n != 1 || err == nil || !strings.Contains(err.Error(), "1,2,:add") {
		t.Fatalf("Readmit: %d, %v; want the saved query asked for, the stale one left out, the bad one named", n, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go next.Run(ctx, db, time.Second)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if st := next.Stats(); st.Queries == 1 && st.Series == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the saved query was not admitted: %+v", next.Stats())
		}
	}
	var got []string
	if err := next.Fetch(ctx, mustQuery(t, "name,sps,:eq"), end.Add(-time.Hour).UnixMilli(), end.UnixMilli(), 60_000,
		func(tags map[string]string, _ []float64) error { got = append(got, tags["cluster"]); return nil }); err != nil {
		t.Fatalf("fetch from the readmitted tier: %v", err)
	}
	if strings.Join(got, ",") != "a,b" && strings.Join(got, ",") != "b,a" {
		t.Fatalf("series %v, want clusters a and b", got)
	}
}

func mustQuery(t *testing.T, text string) stack.Query {
	t.Helper()
	items, err := stack.Interpret(text, nil, time.UTC)
	if err != nil || len(items) != 1 {
		t.Fatalf("%s: %v", text, err)
	}
	q, ok := items[0].(stack.Query)
	if !ok {
		t.Fatalf("%s: %T", text, items[0])
	}
	return q
}
