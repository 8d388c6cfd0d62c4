package sshca

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/coreos/go-oidc/v3/oidc"
)

// OIDCConfig says how signing requests' ID tokens are verified.
type OIDCConfig struct {
	// Issuer is the expected "iss"; empty disables ID tokens.
	Issuer string
	// JWKSURL is where the issuer's keys are; empty means OIDC discovery
	// at Issuer/.well-known/openid-configuration.
	JWKSURL string
	// ClientID is the expected audience.
	ClientID string
	// UsernameClaim names the claim that is the identity (default
	// "preferred_username"; for "email", the part before the @).
	UsernameClaim string
	// GroupsClaim names the claim listing the caller's groups (default
	// "groups").
	GroupsClaim string
	// Required makes every signing request carry an ID token.
	Required bool
}

// Validate checks the configuration.
func (c OIDCConfig) Validate() error {
	if c.Issuer == "" {
		if c.Required {
			return errors.New("sshca-oidc-required: set, but sshca-oidc-issuer is not")
		}
		return nil
	}
	if !strings.HasPrefix(c.Issuer, "https://") && !strings.HasPrefix(c.Issuer, "http://") {
		return fmt.Errorf("sshca-oidc-issuer: %q is not an http(s) URL", c.Issuer)
	}
	if c.ClientID == "" {
		return errors.New("sshca-oidc-client-id: required with sshca-oidc-issuer (the audience ID tokens must name)")
	}
	return nil
}

// oidcVerifier verifies ID tokens, discovering the issuer's keys on first
// use so that a server starts while its issuer is down.
type oidcVerifier struct {
	cfg OIDCConfig

	mu       sync.Mutex
	verifier *oidc.IDTokenVerifier
}

func newOIDCVerifier(cfg OIDCConfig) *oidcVerifier {
	if cfg.UsernameClaim == "" {
		cfg.UsernameClaim = "preferred_username"
	}
	if cfg.GroupsClaim == "" {
		cfg.GroupsClaim = "groups"
	}
	return &oidcVerifier{cfg: cfg}
}

func (v *oidcVerifier) get(ctx context.Context) (*oidc.IDTokenVerifier, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.verifier != nil {
		return v.verifier, nil
	}
	conf := &oidc.Config{ClientID: v.cfg.ClientID,
		SupportedSigningAlgs: []string{oidc.RS256, oidc.RS384, oidc.RS512, oidc.ES256, oidc.ES384, oidc.ES512, oidc.PS256, oidc.EdDSA}}
	// The key set outlives this request: its refreshes must not be
	// cancelled with it.
	bg := context.WithoutCancel(ctx)
	if v.cfg.JWKSURL != "" {
		v.verifier = oidc.NewVerifier(v.cfg.Issuer, oidc.NewRemoteKeySet(bg, v.cfg.JWKSURL), conf)
		return v.verifier, nil
	}
	p, err := oidc.NewProvider(bg, v.cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("sshca: OIDC discovery at %s: %w", v.cfg.Issuer, err)
	}
	v.verifier = p.Verifier(conf)
	return v.verifier, nil
}

// Verify checks an ID token and returns the identity and groups it
// asserts. Its errors are *Refusal (401) for tokens that do not verify.
func (v *oidcVerifier) Verify(ctx context.Context, raw string) (string, []string, error) {
	ver, err := v.get(ctx)
	if err != nil {
		return "", nil, &Refusal{Status: http.StatusServiceUnavailable, Code: "unavailable", Reason: err.Error()}
	}
	tok, err := ver.Verify(ctx, raw)
	if err != nil {
		return "", nil, &Refusal{Status: http.StatusUnauthorized, Code: "unauthenticated",
			Reason: "id_token: " + err.Error()}
	}
	var claims map[string]any
	if err := tok.Claims(&claims); err != nil {
		return "", nil, &Refusal{Status: http.StatusUnauthorized, Code: "unauthenticated", Reason: "id_token: " + err.Error()}
	}
	name, _ := claims[v.cfg.UsernameClaim].(string)
	if v.cfg.UsernameClaim == "email" {
		if verified, ok := claims["email_verified"].(bool); ok && !verified {
			return "", nil, refuse("id_token: the email address is not verified")
		}
		name, _, _ = strings.Cut(name, "@")
	}
	if name == "" {
		return "", nil, refuse("id_token: no %q claim to take the identity from", v.cfg.UsernameClaim)
	}
	var groups []string
	switch g := claims[v.cfg.GroupsClaim].(type) {
	case []any:
		for _, x := range g {
			if s, ok := x.(string); ok {
				groups = append(groups, s)
			}
		}
	case string:
		groups = strings.Fields(g)
	}
	return name, groups, nil
}

// errNoOIDC answers an ID token sent to a server that verifies none.
var errNoOIDC = &Refusal{Status: http.StatusBadRequest, Code: "invalid_request",
	Reason: "id_token: this server verifies no ID tokens (--sshca-oidc-issuer is not set)"}
