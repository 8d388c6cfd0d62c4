package auth

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// AdminScope grants every permission.
const AdminScope = "admin"

// AuthenticatedScope is the scope of routes any valid credential may call
// (the home page, "who am I", logout).
const AuthenticatedScope = "authenticated"

// scopePattern accepts "<system>:read", "<system>:write" and
// "<system>:sign". Sign is for systems that issue credentials to the
// caller's own identity (the SSH CA): it is granted explicitly, and neither
// implies nor is implied by write.
var scopePattern = regexp.MustCompile(`^[a-z][a-z0-9-]*:(read|write|sign)$`)

// ValidateScope reports whether s is "admin" or "<system>:read|write|sign".
func ValidateScope(s string) error {
	if s == AdminScope || s == AuthenticatedScope || scopePattern.MatchString(s) {
		return nil
	}
	return fmt.Errorf("scope %q: want \"admin\" or \"<system>:read\" / \"<system>:write\" / \"<system>:sign\"", s)
}

// Principal is the authenticated caller of a request.
type Principal struct {
	// TokenID identifies the token used; "admin" for the bootstrap token.
	TokenID string `json:"token_id"`
	// Name is the token's human name (who it was made for).
	Name string `json:"name"`
	// Identity is the user or service the token is bound to, when set
	// (used by systems that sign for an identity, such as the SSH CA).
	Identity string `json:"identity,omitempty"`
	// Scopes are the permissions granted.
	Scopes []string `json:"scopes"`
	// ExpiresAt is when the token stops working; nil when it does not
	// expire. A UI session opened with the token ends no later.
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// Actor returns the name recorded in the audit log for this principal.
func (p *Principal) Actor() string {
	if p == nil {
		return "anonymous"
	}
	if p.Identity != "" {
		return p.Identity
	}
	return "token:" + p.Name
}

// Has reports whether the principal holds scope, directly or by
// implication (admin holds everything; system:write holds system:read).
func (p *Principal) Has(scope string) bool {
	if p == nil {
		return false
	}
	if scope == "" || scope == AuthenticatedScope {
		return true
	}
	system, level, _ := strings.Cut(scope, ":")
	for _, s := range p.Scopes {
		if s == AdminScope || s == scope {
			return true
		}
		if level == "read" && s == system+":write" {
			return true
		}
	}
	return false
}

type principalKey struct{}

// WithPrincipal returns a context carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal of the request, or nil.
func FromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}
