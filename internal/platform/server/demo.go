package server

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/gaffer-sre/gaffer/internal/platform/auth"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
)

// DemoTokenName is the token `serve --demo` creates once: it may read
// what every running system shows and change nothing. Its secret is kept
// in DemoTokenFile in the data directory, for a user who wants to try a
// token that is not the admin's.
const (
	DemoTokenName = "demo-readonly"
	DemoTokenFile = "demo-readonly.token"
)

// loadDemoToken creates the demo token unless a token of that name was
// ever created in this database (one the user revoked stays revoked).
func (s *Server) loadDemoToken(ctx context.Context) error {
	list, err := s.deps.Tokens.List(ctx)
	if err != nil {
		return fmt.Errorf("demo token: %w", err)
	}
	for _, t := range list {
		if t.Name == DemoTokenName {
			return nil
		}
	}
	scopes := readScopes(s.router.Routes())
	if len(scopes) == 0 {
		return nil
	}
	_, secret, err := s.deps.Tokens.Create(ctx, auth.CreateRequest{Name: DemoTokenName, Scopes: scopes, CreatedBy: "demo"})
	if err != nil {
		return fmt.Errorf("demo token: %w", err)
	}
	if err := os.WriteFile(filepath.Join(s.cfg.DataDir, DemoTokenFile), []byte(secret+"\n"), 0o600); err != nil {
		return fmt.Errorf("demo token: %w", err)
	}
	return nil
}

// readScopes are the read scopes the routes check, sorted.
func readScopes(routes []httpapi.Route) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range routes {
		if strings.HasSuffix(r.Scope, ":read") && !seen[r.Scope] {
			seen[r.Scope] = true
			out = append(out, r.Scope)
		}
	}
	sort.Strings(out)
	return out
}
