package resolve

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// benchIndex builds an installation of 10,000 clusters and 1,000
// commands: clusters carry their id and name tags, one of 5 types, 3
// schedulers, 3 regions and 50 teams; commands one of 20 kinds and 50
// versions, with two cluster criteria each.
func benchIndex(tb testing.TB, rng *rand.Rand) *Index {
	types := []string{"yarn", "presto", "k8s", "trino", "flink"}
	scheds := []string{"sla", "adhoc", "bonus"}
	regions := []string{"east", "west", "eu"}
	clusters := make([]*Cluster, 10_000)
	for i := range clusters {
		id := fmt.Sprintf("cl%05d", i)
		status := StatusUp
		if i%10 == 0 {
			status = StatusOutOfService
		}
		clusters[i] = cluster(id, status, "genie.id:"+id, "genie.name:"+id, "type:"+types[i%5], "sched:"+scheds[i%3],
			"region:"+regions[(i/3)%3], fmt.Sprintf("team:%d", i%50))
	}
	commands := make([]*Command, 1_000)
	for i := range commands {
		id := fmt.Sprintf("cmd%04d", i)
		ty := types[i%5]
		commands[i] = command(id, []string{"genie.id:" + id, fmt.Sprintf("kind:%d", i%20), fmt.Sprintf("ver:%d", i%50)},
			tags("type:"+ty, "sched:sla"), tags("type:"+ty, "sched:adhoc"))
	}
	x, err := NewIndex(nil, commands, clusters)
	if err != nil {
		tb.Fatal(err)
	}
	return x
}

func benchRequests(rng *rand.Rand, n int) []*Request {
	regions := []string{"east", "west", "eu"}
	reqs := make([]*Request, n)
	for i := range reqs {
		k := rng.IntN(1000)
		reqs[i] = &Request{JobID: fmt.Sprint(i), User: "u",
			Command: tags(fmt.Sprintf("kind:%d", k%20), fmt.Sprintf("ver:%d", k%50)),
			Clusters: []Criterion{tags(fmt.Sprintf("team:%d", rng.IntN(50)), "region:"+regions[rng.IntN(3)]),
				tags("region:" + regions[rng.IntN(3)])}}
	}
	return reqs
}

// BenchmarkResolve resolves jobs over 10,000 clusters × 1,000 commands
// and reports the 50th and 99th percentile latency of one resolution.
func BenchmarkResolve(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := benchIndex(b, rng)
	reqs := benchRequests(rng, 4096)
	ctx := context.Background()
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if _, err := x.Resolve(ctx, reqs[i%len(reqs)], Options{}); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
}

// TestBenchFixtureResolves keeps the benchmark's installation honest:
// every request resolves, to a command whose tags it asked for.
func TestBenchFixtureResolves(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := benchIndex(t, rng)
	for _, req := range benchRequests(rng, 200) {
		r, err := x.Resolve(context.Background(), req, Options{})
		if err != nil {
			t.Fatalf("%+v: %v", req, err)
		}
		if mismatch(&r.Command.Resource, req.Command, StatusActive) != "" || r.Cluster.Status != StatusUp {
			t.Fatalf("%+v resolved to %s on %s", req, r.Command.ID, r.Cluster.ID)
		}
	}
}
