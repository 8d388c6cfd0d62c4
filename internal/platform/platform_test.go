package platform

import (
	"context"
	"strings"
	"testing"
)

func module(name string, requires ...string) Module {
	return Module{Name: name, Requires: requires,
		New: func(context.Context, *Deps) (Service, error) { return nil, nil }}
}

func modules(ms ...Module) map[string]Module {
	out := map[string]Module{}
	for _, m := range ms {
		out[m.Name] = m
	}
	return out
}

func TestDependencyOrderPutsRequirementsFirst(t *testing.T) {
	got, err := dependencyOrder(modules(module("alerting", "metrics", "correlate"),
		module("correlate", "metrics"), module("metrics"), module("atlas", "metrics")), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range got {
		names = append(names, m.Name)
	}
	if want := "metrics,correlate,alerting,atlas"; strings.Join(names, ",") != want {
		t.Fatalf("order %v, want %s", names, want)
	}
}

func TestDependencyOrderRefusesUnknownRequirement(t *testing.T) {
	_, err := dependencyOrder(modules(module("atlas", "metrics", "tsdb"), module("metrics")), map[string]bool{"metrics": true})
	if err == nil || !strings.Contains(err.Error(), `atlas requires "tsdb", which names no system`) {
		t.Fatalf("err = %v, want one naming atlas and tsdb", err)
	}
}

func TestDependencyOrderLeavesOutDeclaredSystems(t *testing.T) {
	got, err := dependencyOrder(modules(module("alerting", "metrics", "correlate"), module("metrics")),
		map[string]bool{"metrics": true, "correlate": true})
	if err != nil || len(got) != 2 || got[0].Name != "metrics" || got[1].Name != "alerting" {
		t.Fatalf("got %v, %v; want metrics then alerting, correlate left out", got, err)
	}
}

func TestDependencyOrderRefusesCycles(t *testing.T) {
	_, err := dependencyOrder(modules(module("a", "b"), module("b", "c"), module("c", "a")), nil)
	if err == nil || !strings.Contains(err.Error(), "[a b c a]") {
		t.Fatalf("err = %v, want the cycle a b c a", err)
	}
}

func TestLookupAsSaysWhatIsMissing(t *testing.T) {
	type querier interface{ Query() }
	d := &Deps{}
	if _, err := LookupAs[querier](d, "metrics"); err == nil || !strings.Contains(err.Error(), "not running") {
		t.Fatalf("absent: %v", err)
	}
	d.Provide("metrics", nopService{})
	if _, err := LookupAs[querier](d, "metrics"); err == nil || !strings.Contains(err.Error(), "does not offer") {
		t.Fatalf("wrong type: %v", err)
	}
}

type nopService struct{}

func (nopService) Start(context.Context) error  { return nil }
func (nopService) Stop(context.Context) error   { return nil }
func (nopService) Health(context.Context) error { return nil }
