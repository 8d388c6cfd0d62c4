package plan_test

import (
	"errors"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/demand/failover/fleet"
	"github.com/gaffer-sre/gaffer/demand/failover/plan"
)

var noon = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

func testFleet(t testing.TB) *fleet.Fleet {
	t.Helper()
	b, err := os.ReadFile("../testdata/fleet.yaml")
	if err != nil {
		t.Fatal(err)
	}
	f, err := fleet.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func mustPlan(t *testing.T, f *fleet.Fleet, req plan.Request) *plan.Plan {
	t.Helper()
	p, err := plan.Make(plan.Input{Fleet: f, Now: noon}, req)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// checkInvariants verifies what every feasible plan promises.
func checkInvariants(t *testing.T, f *fleet.Fleet, p *plan.Plan) {
	t.Helper()
	for g, w := range p.After {
		sum := 0.0
		for _, v := range w {
			if v < -1e-9 {
				t.Errorf("%s: negative weight %v", g, w)
			}
			sum += v
		}
		if math.Abs(sum-1) > 1e-9 {
			t.Errorf("%s: weights sum to %v", g, sum)
		}
	}
	total := 0.0
	for _, d := range p.Demand {
		total += d
	}
	for _, r := range p.Regions {
		if r.Region != p.Region && r.LoadAfter > r.Load+1e-9 && r.ShareAfter > r.MaxShare+1e-9 {
			t.Errorf("%s: share %.3f over its max %.3f", r.Region, r.ShareAfter, r.MaxShare)
		}
		if r.Capacity > 0 && r.LoadAfter > r.Capacity*(1+1e-9) && r.LoadAfter > r.Load {
			t.Errorf("%s: load %.4g over capacity %.4g", r.Region, r.LoadAfter, r.Capacity)
		}
	}
	for _, c := range p.Clusters {
		if c.Target < c.Size || (c.Max > 0 && c.Target > c.Max) {
			t.Errorf("%s: target %d outside [%d, %d]", c.Cluster, c.Target, c.Size, c.Max)
		}
		if c.Ungate+c.Launch != c.Target-c.Size || c.Ungate > c.Dark || c.DarkAfter != c.Dark-c.Ungate {
			t.Errorf("%s: inconsistent change %+v", c.Cluster, c)
		}
		if c.Launch > 0 && c.DarkAfter > 0 {
			t.Errorf("%s: launches cold while dark instances are left", c.Cluster)
		}
		if c.LoadAfter > 0 && float64(c.Target)*c.Capacity*p.Settings.TargetUtilization < c.LoadAfter*(1+p.Settings.Headroom)-1e-6 &&
			(c.Max == 0 || c.Target < c.Max) {
			t.Errorf("%s: %d instances of %v do not carry %.4g with headroom", c.Cluster, c.Target, c.Capacity, c.LoadAfter)
		}
	}
}

func TestEvacuateProportional(t *testing.T) {
	f := testFleet(t)
	p := mustPlan(t, f, plan.Request{Evacuate: "us-west-2"})
	if p.Status != plan.Feasible || p.Method != "proportional" {
		t.Fatalf("status %s method %s: %v", p.Status, p.Method, p.Err())
	}
	checkInvariants(t, f, p)
	if w := p.After["na-west"]; w["us-east-1"] != 1 {
		t.Errorf("na-west should go to its next preference, us-east-1: %v", w)
	}
	if w := p.After["latam"]; math.Abs(w["us-east-1"]-1) > 1e-9 {
		t.Errorf("latam should follow its other weight, us-east-1: %v", w)
	}
	for _, r := range p.Regions {
		if r.Region == "us-west-2" && r.LoadAfter != 0 {
			t.Errorf("us-west-2 still serves %v", r.LoadAfter)
		}
	}
	kinds := []string{}
	for _, s := range p.Steps {
		kinds = append(kinds, s.Kind)
	}
	want := "ungate scale_out verify shift shift shift shift flip"
	if got := strings.Join(kinds, " "); got != want {
		t.Errorf("steps %q, want %q", got, want)
	}
	if p.Steps[3].Hold.D() != p.Settings.ColdHold.D() {
		t.Errorf("shift onto cold instances holds %v, want the cold hold", p.Steps[3].Hold)
	}
	var back []string
	for _, s := range p.Rollback {
		back = append(back, s.Kind)
	}
	if got := strings.Join(back, " "); got != "restore_steering restore_size restore_dark" {
		t.Errorf("rollback %q", got)
	}
	if p.Estimate <= 0 {
		t.Error("no estimate")
	}
}

// TestLinearProgram makes the proportional shift break us-east-1's
// maximum share: the LP must spill the rest to the next region in each
// geography's preference and respect every limit.
func TestLinearProgram(t *testing.T) {
	f := testFleet(t)
	f.Regions[0].MaxShare = 0.5
	p := mustPlan(t, f, plan.Request{Evacuate: "us-west-2"})
	if p.Status != plan.Feasible || p.Method != "lp" {
		t.Fatalf("status %s method %s: %v", p.Status, p.Method, p.Err())
	}
	checkInvariants(t, f, p)
	var east, eu plan.RegionChange
	for _, r := range p.Regions {
		switch r.Region {
		case "us-east-1":
			east = r
		case "eu-west-1":
			eu = r
		}
	}
	if math.Abs(east.ShareAfter-0.5) > 1e-6 {
		t.Errorf("us-east-1 should fill up to its max share first: %.4f", east.ShareAfter)
	}
	if eu.LoadAfter <= eu.Load {
		t.Errorf("eu-west-1 should take the rest: %+v", eu)
	}
}

func TestPartialShift(t *testing.T) {
	f := testFleet(t)
	p := mustPlan(t, f, plan.Request{From: "us-west-2", Fraction: 0.3})
	checkInvariants(t, f, p)
	if w := p.After["na-west"]; math.Abs(w["us-west-2"]-0.7) > 1e-9 || math.Abs(w["us-east-1"]-0.3) > 1e-9 {
		t.Errorf("na-west after a 30%% shift: %v", w)
	}
	if got := p.WeightsAt(0.5)["na-west"]["us-west-2"]; math.Abs(got-0.85) > 1e-9 {
		t.Errorf("half way: %v", got)
	}
}

// TestInfeasible shrinks the api clusters' maximum sizes: the plan must
// say so with the shortfall of api, and carry no steps.
func TestInfeasible(t *testing.T) {
	f := testFleet(t)
	for i := range f.Services[1].Clusters {
		f.Services[1].Clusters[i].Max = f.Services[1].Clusters[i].Size
	}
	p := mustPlan(t, f, plan.Request{Evacuate: "us-east-1"})
	if p.Status != plan.Infeasible || len(p.Steps) != 0 || p.After != nil {
		t.Fatalf("status %s, %d steps", p.Status, len(p.Steps))
	}
	if len(p.Shortfalls) != 1 || p.Shortfalls[0].Service != "api" || p.Shortfalls[0].Shortfall <= 0 {
		t.Fatalf("shortfalls %+v", p.Shortfalls)
	}
	if err := p.Err(); err == nil || !strings.Contains(err.Error(), "api short by") {
		t.Errorf("Err() = %v", err)
	}
	if !strings.Contains(p.DiffText(), "api needs") {
		t.Errorf("diff does not show the shortfall:\n%s", p.DiffText())
	}
}

// TestInfeasibleByShare makes every region's max share too small to take
// a third region's demand: no single service is short, the limits are.
func TestInfeasibleByShare(t *testing.T) {
	f := testFleet(t)
	for i := range f.Regions {
		f.Regions[i].MaxShare = 0.4
	}
	p := mustPlan(t, f, plan.Request{Evacuate: "us-east-1"})
	if p.Status != plan.Infeasible || len(p.Shortfalls) != 1 || p.Shortfalls[0].Service != "" {
		t.Fatalf("status %s shortfalls %+v", p.Status, p.Shortfalls)
	}
}

func TestBadRequests(t *testing.T) {
	f := testFleet(t)
	for _, req := range []plan.Request{{}, {Evacuate: "mars-1"}, {Evacuate: "us-east-1", From: "us-east-1"},
		{From: "us-east-1", Fraction: 0}, {From: "us-east-1", Fraction: 1.5}} {
		if _, err := plan.Make(plan.Input{Fleet: f, Now: noon}, req); !errors.Is(err, plan.ErrBadRequest) {
			t.Errorf("%+v: err = %v", req, err)
		}
	}
}

func TestDiff(t *testing.T) {
	p := mustPlan(t, testFleet(t), plan.Request{Evacuate: "us-west-2"})
	text := p.DiffText()
	for _, want := range []string{"  steering na-west", "-   us-east-1 0.0%, us-west-2 100.0%", "+   us-east-1 100.0%, us-west-2 0.0%",
		"  region us-west-2", "  cluster playback-us-east-1 (playback in us-east-1)", "ungated"} {
		if !strings.Contains(text, want) {
			t.Errorf("diff lacks %q:\n%s", want, text)
		}
	}
}

// TestDarkTargets sizes dark pools, then checks that evacuating any one
// region launches nothing cold.
func TestDarkTargets(t *testing.T) {
	f := testFleet(t)
	dark, warnings, err := plan.DarkTargets(plan.Input{Fleet: f, Now: noon})
	if err != nil || len(warnings) > 0 {
		t.Fatal(err, warnings)
	}
	f.Normalize()
	for i := range f.Services {
		for j := range f.Services[i].Clusters {
			c := &f.Services[i].Clusters[j]
			c.Dark = dark[c.Name]
		}
	}
	for _, r := range f.Regions {
		p := mustPlan(t, f, plan.Request{Evacuate: r.Name})
		if p.Totals.Launch != 0 {
			t.Errorf("evacuating %s still launches %d instances", r.Name, p.Totals.Launch)
		}
		for _, s := range p.Steps {
			if s.Kind == plan.StepShift && s.Hold.D() != p.Settings.WarmHold.D() {
				t.Errorf("evacuating %s onto dark capacity holds %v", r.Name, s.Hold)
			}
		}
	}
}
