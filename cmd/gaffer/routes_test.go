package main

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/gaffer-sre/gaffer/internal/platform"
	"github.com/gaffer-sre/gaffer/internal/platform/auth"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
)

var wildcard = regexp.MustCompile(`\{[^}]*\}`)

// TestEveryRouteIsGuarded enumerates every route of every system compiled
// into the binary and proves that, unless the route is public, a request
// without a token gets 401 and one with a token lacking the route's scope
// gets 403.
func TestEveryRouteIsGuarded(t *testing.T) {
	srv := platformtest.Start(t, platformtest.Options{})
	unrelated := srv.Token("nosuchsystem:read")
	routes := srv.Router().Routes()
	if len(routes) < 10 {
		t.Fatalf("only %d routes registered", len(routes))
	}
	var checked int
	for _, route := range routes {
		if route.Public {
			continue
		}
		path := wildcard.ReplaceAllString(strings.ReplaceAll(route.Path, "{$}", ""), "1")
		resp := srv.Do(route.Method, path, "", nil)
		if resp.Status != http.StatusUnauthorized {
			t.Errorf("%s %s without a token: status %d, want 401", route.Method, route.Path, resp.Status)
		}
		if route.Scope == auth.AuthenticatedScope {
			checked++
			continue
		}
		resp = srv.Do(route.Method, path, unrelated, nil)
		if resp.Status != http.StatusForbidden {
			t.Errorf("%s %s with a token lacking %q: status %d, want 403", route.Method, route.Path, route.Scope, resp.Status)
		}
		checked++
	}
	t.Logf("checked %d guarded routes of %d", checked, len(routes))
}

// TestOpenAPICoversEveryRoute checks the served OpenAPI document lists
// every API route with its scope.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	srv := platformtest.Start(t, platformtest.Options{})
	resp := srv.Do("GET", "/api/v1/openapi.json", "", nil)
	if resp.Status != 200 {
		t.Fatalf("openapi.json: %d", resp.Status)
	}
	var doc struct {
		Paths map[string]map[string]struct {
			Scope string `json:"x-gaffer-scope"`
		} `json:"paths"`
	}
	resp.JSON(t, &doc)
	for _, route := range srv.Router().Routes() {
		if route.UI {
			continue
		}
		p := regexp.MustCompile(`\{([A-Za-z_]+)\.\.\.\}`).ReplaceAllString(route.Path, "{$1}")
		ops, ok := doc.Paths[p]
		if !ok {
			t.Errorf("openapi.json lacks path %s", p)
			continue
		}
		op, ok := ops[map[string]string{"GET": "get", "POST": "post", "PUT": "put", "DELETE": "delete", "PATCH": "patch"}[route.Method]]
		if !ok {
			t.Errorf("openapi.json lacks %s %s", route.Method, p)
			continue
		}
		if !route.Public && op.Scope != route.Scope {
			t.Errorf("openapi.json scope of %s %s = %q, want %q", route.Method, p, op.Scope, route.Scope)
		}
	}
}

// auditAction is the one form of a route's audit action:
// <system>.<noun>.<verb>, lower case.
var auditAction = regexp.MustCompile(`^([a-z]+)\.[a-z][a-z_]*\.[a-z][a-z_]*$`)

// TestEveryMutatingRouteNamesItsAuditAction checks that every route that
// can change state (every method but GET and HEAD) names its audit action
// as <system>.<noun>.<verb>, where system is a compiled-in module or
// "platform" for the server's own routes, so that the API and the UI
// record one operation under one name.
func TestEveryMutatingRouteNamesItsAuditAction(t *testing.T) {
	srv := platformtest.Start(t, platformtest.Options{})
	modules, err := platform.Modules()
	if err != nil {
		t.Fatal(err)
	}
	systems := map[string]bool{"platform": true}
	for _, m := range modules {
		systems[m.Name] = true
	}
	var checked int
	for _, route := range srv.Router().Routes() {
		if !route.Mutating() {
			continue
		}
		checked++
		m := auditAction.FindStringSubmatch(route.Action)
		switch {
		case m == nil:
			t.Errorf("%s %s: audit action %q is not <system>.<noun>.<verb>", route.Method, route.Path, route.Action)
		case !systems[m[1]]:
			t.Errorf("%s %s: audit action %q names no system (%v)", route.Method, route.Path, route.Action, systems)
		}
	}
	if checked < 50 {
		t.Fatalf("only %d mutating routes", checked)
	}
}
