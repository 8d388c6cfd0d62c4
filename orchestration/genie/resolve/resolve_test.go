package resolve

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/gaffer-sre/gaffer/internal/platform/celbudget"
)

func cluster(id, status string, tags ...string) *Cluster {
	return &Cluster{Resource{ID: id, Name: id, User: "ops", Version: "1", Status: status, Tags: tags}}
}

func command(id string, tags []string, criteria ...Criterion) *Command {
	return &Command{Resource: Resource{ID: id, Name: id, User: "ops", Version: "1", Status: StatusActive, Tags: tags},
		Executable: []string{"/bin/" + id}, ClusterCriteria: criteria}
}

func tags(t ...string) Criterion { return Criterion{Tags: t} }

func fixture(t *testing.T) *Index {
	t.Helper()
	x, err := NewIndex(nil, []*Command{
		command("spark24", []string{"type:spark", "ver:2.4"}, tags("sched:sla"), tags("sched:adhoc")),
		command("spark30", []string{"type:spark", "ver:3.0"}, tags("spark:3")),
		command("presto", []string{"type:presto"}, tags("type:presto")),
		{Resource: Resource{ID: "old", Name: "old", User: "ops", Version: "1", Status: StatusDeprecated, Tags: []string{"type:spark", "ver:2.4"}},
			Executable: []string{"x"}, ClusterCriteria: []Criterion{tags("sched:adhoc")}},
	}, []*Cluster{
		cluster("sla1", StatusUp, "sched:sla", "type:yarn", "region:east"),
		cluster("sla2", StatusOutOfService, "sched:sla", "type:yarn", "region:east"),
		cluster("adhoc1", StatusUp, "sched:adhoc", "type:yarn", "region:east"),
		cluster("adhoc2", StatusUp, "sched:adhoc", "type:yarn", "region:west"),
		cluster("presto1", StatusUp, "type:presto"),
	})
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func first(int) int { return 0 }

func TestResolveFollowsCriteriaOrder(t *testing.T) {
	x := fixture(t)
	ctx := context.Background()
	// The command's first cluster criterion (sched:sla) wins over its
	// second when some UP cluster matches it with the job's tags.
	r, err := x.Resolve(ctx, &Request{Command: tags("ver:2.4"), Clusters: []Criterion{tags("type:yarn")}}, Options{IntN: first, Explain: true})
	if err != nil {
		t.Fatal(err)
	}
	if r.Command.ID != "spark24" || r.Cluster.ID != "sla1" || r.Candidates != 1 {
		t.Fatalf("resolved %s on %s among %d, want spark24 on sla1 alone", r.Command.ID, r.Cluster.ID, r.Candidates)
	}
	// With the job asking for the west region, sched:sla has no UP
	// cluster there and the command's second criterion applies.
	r, err = x.Resolve(ctx, &Request{Command: tags("ver:2.4"), Clusters: []Criterion{tags("region:west")}}, Options{IntN: first})
	if err != nil || r.Cluster.ID != "adhoc2" {
		t.Fatalf("west: %+v, %v; want adhoc2", r, err)
	}
	// The job's criteria are tried in order within each command criterion.
	r, err = x.Resolve(ctx, &Request{Command: tags("ver:2.4"), Clusters: []Criterion{tags("region:north"), tags("region:east")}}, Options{IntN: first})
	if err != nil || r.Cluster.ID != "sla1" || r.Criterion.String() != "TAGS=region:east,sched:sla" {
		t.Fatalf("fallback: %+v, %v", r, err)
	}
}

func TestResolveExplains(t *testing.T) {
	x := fixture(t)
	r, err := x.Resolve(context.Background(), &Request{Command: tags("type:spark"), Clusters: []Criterion{tags("region:east")}},
		Options{IntN: first, Explain: true})
	if err != nil {
		t.Fatal(err)
	}
	why := map[string]Verdict{}
	for _, v := range append(r.Explanation.Commands, r.Explanation.Clusters...) {
		why[v.ID] = v
	}
	for id, want := range map[string]string{
		"spark24": "chosen",
		"spark30": "no cluster matches: #1 TAGS=region:east,spark:3: 0 clusters",
		"old":     "status DEPRECATED is not ACTIVE",
		"sla1":    "matches criterion #1 TAGS=region:east,sched:sla; chosen by the load balancer",
		"sla2":    "status OUT_OF_SERVICE is not UP",
		"adhoc1":  "matches criterion #2 TAGS=region:east,sched:adhoc, but #1 already selected clusters",
	} {
		if !strings.Contains(why[id].Reason, want) {
			t.Errorf("%s: reason %q, want it to contain %q", id, why[id].Reason, want)
		}
	}
	if !why["sla1"].Kept || why["sla2"].Kept || why["old"].Kept || !why["spark24"].Kept {
		t.Errorf("kept flags wrong: %+v", why)
	}
}

func TestResolveFailures(t *testing.T) {
	x := fixture(t)
	ctx := context.Background()
	_, err := x.Resolve(ctx, &Request{Command: tags("type:hive"), Clusters: []Criterion{tags("type:yarn")}}, Options{})
	if !errors.Is(err, ErrNoCommand) {
		t.Fatalf("hive: %v, want ErrNoCommand", err)
	}
	r, err := x.Resolve(ctx, &Request{Command: tags("type:presto"), Clusters: []Criterion{tags("type:yarn")}}, Options{Explain: true})
	if !errors.Is(err, ErrNoCluster) || r.Explanation == nil || len(r.Explanation.Commands) != 1 {
		t.Fatalf("presto on yarn: %v %+v, want ErrNoCluster with an explanation", err, r)
	}
	// Conflicting names cannot merge: the pair is skipped, not matched.
	x2, _ := NewIndex(nil, []*Command{command("c", []string{"t"}, Criterion{Name: "a"})}, []*Cluster{cluster("a", StatusUp), cluster("b", StatusUp)})
	_, err = x2.Resolve(ctx, &Request{Command: tags("t"), Clusters: []Criterion{{Name: "b"}}}, Options{})
	if !errors.Is(err, ErrNoCluster) {
		t.Fatalf("name conflict: %v", err)
	}
	if _, err := x.Resolve(ctx, &Request{Command: tags("t")}, Options{}); err == nil || !strings.Contains(err.Error(), "clusterCriterias") {
		t.Fatalf("no cluster criteria: %v", err)
	}
}

func TestCELSelector(t *testing.T) {
	x := fixture(t)
	ctx := context.Background()
	req := &Request{JobID: "j1", User: "ana", Command: tags("ver:2.4"), Clusters: []Criterion{tags("sched:adhoc")}}
	sel, err := NewCELSelector(`job.user == "ana" ? clusters.filter(c, "region:west" in c.tags)[0].id : null`, celbudget.Default())
	if err != nil {
		t.Fatal(err)
	}
	// spark24's first criterion (sched:sla) merged with sched:adhoc finds
	// no cluster; the second finds adhoc1 and adhoc2.
	r, err := x.Resolve(ctx, req, Options{Selector: sel, IntN: first})
	if err != nil || r.Cluster.ID != "adhoc2" || r.Rationale != "chosen by the CEL selector" {
		t.Fatalf("CEL: %+v, %v", r, err)
	}
	req.User = "bo" // null: the random fallback (first) chooses
	if r, err = x.Resolve(ctx, req, Options{Selector: sel, IntN: first}); err != nil || r.Cluster.ID != "adhoc1" {
		t.Fatalf("CEL null: %+v, %v", r, err)
	}
	bad, _ := NewCELSelector(`"nosuch"`, celbudget.Default())
	if _, err := x.Resolve(ctx, req, Options{Selector: bad}); err == nil || !strings.Contains(err.Error(), `chose "nosuch"`) {
		t.Fatalf("unknown id: %v", err)
	}
	tight := celbudget.Default()
	tight.Cost = 10
	if _, err := NewCELSelector(`clusters.map(c, c.tags.map(t, t + t)).size() > 0 ? "x" : null`, tight); err == nil {
		t.Fatalf("an expression over the budget compiled")
	}
}

func TestNewIndexRefusesDuplicates(t *testing.T) {
	if _, err := NewIndex(nil, nil, []*Cluster{cluster("a", StatusUp), cluster("a", StatusUp)}); err == nil || !strings.Contains(err.Error(), `cluster "a"`) {
		t.Fatalf("duplicate cluster: %v", err)
	}
}

func TestValidate(t *testing.T) {
	c := command("c", nil, Criterion{})
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "clusterCriteria[0]") {
		t.Fatalf("empty criterion: %v", err)
	}
	cl := cluster("x", "DOWN")
	if err := cl.Validate(); err == nil || !strings.Contains(err.Error(), `status: "DOWN"`) {
		t.Fatalf("bad status: %v", err)
	}
}
