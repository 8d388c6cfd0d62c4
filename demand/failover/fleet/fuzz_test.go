package fleet_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/gaffer-sre/gaffer/demand/failover/fleet"
)

// FuzzParse feeds the importer arbitrary documents: it must never panic,
// and whatever it accepts must be valid and survive a YAML round trip.
func FuzzParse(f *testing.F) {
	f.Add(example(f))
	for _, s := range []string{"name: a\n", "name: a\nregions: [{name: r}]\ngeographies: [{name: g, demand: 1, steering: {r: 1}}]\n" +
		"services: [{name: s, clusters: [{region: r, capacity_per_instance: 1, size: 1}]}]\n",
		"name: a\nprovider: {type: webhook, webhook: {url: 'http://x'}}\n", "{\"name\": 1}", "a: &x [*x]"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		fl, err := fleet.Parse(src)
		if err != nil {
			if _, ok := errors.AsType[*fleet.Error](err); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		if err := fl.Validate(); err != nil {
			t.Fatalf("accepted an invalid fleet: %v", err)
		}
		y, err := fl.YAML()
		if err != nil {
			t.Fatal(err)
		}
		back, err := fleet.Parse(y)
		if err != nil {
			t.Fatalf("YAML of an accepted fleet does not parse: %v\n%s", err, y)
		}
		if !reflect.DeepEqual(fl, back) {
			t.Fatalf("round trip changed the fleet:\n%s", y)
		}
	})
}
