package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gaffer-sre/gaffer/demand/failover"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
)

// TestFailoverExerciseLocal runs the exercise command in its own process
// and checks the JSON it prints.
func TestFailoverExerciseLocal(t *testing.T) {
	out, err := runGaffer(t, "", "failover", "exercise", "--local", "--regions", "3", "--clusters", "40", "--evacuate", "us-west-2",
		"--provider", "simulator", "--output", "json")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var r struct {
		Evacuated        *bool    `json:"evacuated"`
		SimulatedSeconds *float64 `json:"simulated_seconds"`
		PlanSeconds      *float64 `json:"plan_seconds"`
		Timeline         []struct {
			Phase string  `json:"phase"`
			Start float64 `json:"start"`
			End   float64 `json:"end"`
		} `json:"timeline"`
		Parameters struct {
			Simulator map[string]any `json:"simulator"`
		} `json:"parameters"`
	}
	if err := json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &r); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if r.Evacuated == nil || !*r.Evacuated || r.SimulatedSeconds == nil || *r.SimulatedSeconds > 480 || r.PlanSeconds == nil {
		t.Fatalf("report: %s", out)
	}
	if len(r.Timeline) < 6 || r.Timeline[0].Phase != "ungate" {
		t.Errorf("timeline: %+v", r.Timeline)
	}
	for _, k := range []string{"provision_min", "provision_max", "startup_max", "dns_propagation", "launch_failure_rate"} {
		if _, ok := r.Parameters.Simulator[k]; !ok {
			t.Errorf("the report does not state the simulator's %s", k)
		}
	}
	if out, err := runGaffer(t, "", "failover", "exercise", "--local", "--regions", "3", "--clusters", "5", "--evacuate", "mars-1"); err == nil {
		t.Errorf("an unknown region was accepted: %s", out)
	}
}

// TestFailoverCLI imports a fleet, plans, executes and follows an
// evacuation through the server.
func TestFailoverCLI(t *testing.T) {
	srv := platformtest.Start(t, platformtest.Options{})
	tok := srv.AdminToken
	src, err := os.ReadFile("../../demand/failover/testdata/fleet.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "fleet.yaml")
	os.WriteFile(file, src, 0o644)
	if out := mustCLI(t, srv, tok, "failover", "import", "-f", file); !strings.Contains(out, "imported fleet streaming: version 1 (new version), 3 regions, 2 services, 6 clusters") {
		t.Fatalf("import: %s", out)
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte(strings.Replace(string(src), "size: 80", "size: eighty", 1)), 0o644)
	out, err := gafferCLI(t, srv, tok, "failover", "import", "-f", bad)
	if err == nil || !strings.Contains(out, "bad.yaml:38:") || !strings.Contains(out, "services[1].clusters[0].size: want an integer") {
		t.Fatalf("import of a bad file: %v %s", err, out)
	}
	if out := mustCLI(t, srv, tok, "failover", "fleets"); !strings.Contains(out, "streaming") {
		t.Errorf("fleets: %s", out)
	}
	if out := mustCLI(t, srv, tok, "failover", "show", "streaming"); !strings.Contains(out, "capacity_per_instance: 900") {
		t.Errorf("show: %s", out)
	}
	out = mustCLI(t, srv, tok, "failover", "plan", "streaming", "--evacuate", "us-west-2", "--execute")
	for _, want := range []string{"feasible (proportional)", "- steering na-west", "step 1: Ungate", "execution ex_"} {
		if !strings.Contains(out, want) && !strings.Contains(out, strings.TrimPrefix(want, "- ")) {
			t.Errorf("plan lacks %q:\n%s", want, out)
		}
	}
	id := out[strings.Index(out, "execution ex_")+len("execution "):]
	id = strings.Fields(id)[0]
	out = mustCLI(t, srv, tok, "failover", "execution", id, "--wait")
	if !strings.Contains(out, failover.ExecSucceeded) || !strings.Contains(out, "Flip DNS") {
		t.Errorf("execution: %s", out)
	}
	if out := mustCLI(t, srv, tok, "failover", "executions", "--output", "json"); !strings.Contains(out, id) {
		t.Errorf("executions: %s", out)
	}
	if _, err := gafferCLI(t, srv, tok, "failover", "pause", id); err == nil || !strings.Contains(err.Error(), "409") {
		t.Errorf("pausing a finished execution: %v", err)
	}
	if out := mustCLI(t, srv, tok, "failover", "rollback", id); !strings.Contains(out, "rolling_back") {
		t.Errorf("rollback: %s", out)
	}
	if _, err := gafferCLI(t, srv, tok, "failover", "plan", "streaming", "--evacuate", "nowhere"); err == nil {
		t.Error("a plan for an unknown region")
	}
	if out := mustCLI(t, srv, tok, "failover", "darkpools", "streaming"); !strings.Contains(out, "streaming") {
		t.Errorf("darkpools: %s", out)
	}
}
