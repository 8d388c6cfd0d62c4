package fleet_test

import (
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/demand/failover/fleet"
)

func example(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("../testdata/fleet.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseExample(t *testing.T) {
	f, err := fleet.Parse(example(t))
	if err != nil {
		t.Fatal(err)
	}
	if f.Name != "streaming" || len(f.Regions) != 3 || len(f.Geographies) != 4 || len(f.Services) != 2 {
		t.Fatalf("parsed %+v", f)
	}
	if got := f.Services[0].Startup.D(); got != 12*time.Minute {
		t.Errorf("startup = %v", got)
	}
	if f.Services[1].Clusters[2].CapacityPerInstance != 900 || f.Geographies[3].Steering["us-west-2"] != 0.4 {
		t.Errorf("values lost: %+v %+v", f.Services[1].Clusters[2], f.Geographies[3])
	}
	if f.Provider.Simulator == nil || f.Provider.Simulator.Seed != 42 {
		t.Errorf("simulator = %+v", f.Provider.Simulator)
	}
}

// TestRoundTrip writes a fleet as YAML and as JSON and reads it back.
func TestRoundTrip(t *testing.T) {
	f, err := fleet.Parse(example(t))
	if err != nil {
		t.Fatal(err)
	}
	y, err := f.YAML()
	if err != nil {
		t.Fatal(err)
	}
	g, err := fleet.Parse(y)
	if err != nil {
		t.Fatalf("YAML of a valid fleet does not parse: %v\n%s", err, y)
	}
	if !reflect.DeepEqual(f, g) {
		t.Errorf("YAML round trip changed the fleet:\n%s", y)
	}
	j, _ := json.Marshal(f)
	h, err := fleet.Parse(j)
	if err != nil {
		t.Fatalf("JSON of a valid fleet does not parse: %v", err)
	}
	if !reflect.DeepEqual(f, h) {
		t.Errorf("JSON round trip changed the fleet: %s", j)
	}
}

// TestErrorsNameTheField checks that every kind of mistake is reported
// with the path of the field and its line.
func TestErrorsNameTheField(t *testing.T) {
	base := string(example(t))
	cases := []struct {
		name, old, new, path string
		line                 int
		msg                  string
	}{
		{"unknown field", "capacity_per_instance: 900, size: 80", "capacity_per_instanse: 900, size: 80",
			"services[1].clusters[0].capacity_per_instanse", 38, "unknown field"},
		{"wrong type", "size: 150", "size: many", "services[0].clusters[0].size", 31, "want an integer"},
		{"float for int", "size: 110", "size: 110.5", "services[0].clusters[1].size", 32, "want an integer"},
		{"bad duration", "startup: 4m", "startup: 4 minutes", "services[1].startup", 36, "duration"},
		{"number for duration", "startup: 12m", "startup: 720", "services[0].startup", 29, "duration"},
		{"undeclared region", "{region: eu-west-1, capacity_per_instance: 12", "{region: eu-west-9, capacity_per_instance: 12",
			"services[0].clusters[2].region", 33, `no region is called "eu-west-9"`},
		{"min above max", "size: 50, min: 20, max: 150", "size: 50, min: 200, max: 150", "services[1].clusters[2].min", 40, "above max"},
		{"size below min", "size: 60, min: 20", "size: 10, min: 20", "services[1].clusters[1].size", 39, "below min"},
		{"zero capacity", "capacity_per_instance: 12, size: 90", "capacity_per_instance: 0, size: 90",
			"services[0].clusters[2].capacity_per_instance", 33, "above 0"},
		{"steering to nowhere", "steering: {us-west-2: 1}", "steering: {us-west-3: 1}", "geographies[1].steering.us-west-3", 17, "no region"},
		{"share above one", "max_share: 0.75\n  - name: us-west-2", "max_share: 1.6\n  - name: us-west-2", "regions[0].max_share", 5, "between 0 and 1"},
		{"duplicate region", "- name: eu-west-1\n    max_share", "- name: us-west-2\n    max_share", "regions[2].name", 8, "declared twice"},
		{"bad PromQL", "sum by (region) (stream_starts_per_second)", "sum by (region (", "demand.region_metric", 42, "PromQL"},
		{"provider type", "type: simulator", "type: aws", "provider.type", 48, "simulator or webhook"},
		{"list for mapping", "planning:\n  increments: 4\n  headroom: 0.1", "planning: [4]", "planning", 44, "mapping"},
		{"profile length", "demand: 300\n", "demand: 300\n    profile: [1, 2]\n", "geographies[3].profile", 25, "want 24"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := strings.Replace(base, c.old, c.new, 1)
			if src == base {
				t.Fatalf("case does not apply: %q not found", c.old)
			}
			_, err := fleet.Parse([]byte(src))
			var fe *fleet.Error
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v, want *fleet.Error", err)
			}
			for _, p := range fe.Problems {
				if p.Path == c.path && strings.Contains(p.Message, c.msg) {
					if p.Line != c.line {
						t.Errorf("%s: line %d, want %d", p.Path, p.Line, c.line)
					}
					return
				}
			}
			t.Errorf("no problem at %s containing %q; got %v", c.path, c.msg, err)
		})
	}
}

func TestParseRefusesGarbage(t *testing.T) {
	for _, src := range []string{"", "[1, 2]", "name: [", "name: x\nregions: {}\n", "\t- broken", "name: a\nname: b\n"} {
		if _, err := fleet.Parse([]byte(src)); err == nil {
			t.Errorf("Parse(%q) accepted", src)
		}
	}
}

// TestAliasBombIsRefused builds a small document whose aliases expand
// to ten million clusters: the importer stops counting at its limit.
func TestAliasBombIsRefused(t *testing.T) {
	var b strings.Builder
	b.WriteString("name: x\nregions: [{name: r}]\nservices:\n  - &s {name: s, clusters: [&c {region: r, capacity_per_instance: 1, size: 1}")
	b.WriteString(strings.Repeat(", *c", 9999))
	b.WriteString("]}\n")
	b.WriteString(strings.Repeat("  - *s\n", 999))
	_, err := fleet.Parse([]byte(b.String()))
	if err == nil || !strings.Contains(err.Error(), "expands to more than") {
		t.Fatalf("err = %.300v, want a refusal of the expansion", err)
	}
}
