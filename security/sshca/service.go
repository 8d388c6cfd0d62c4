package sshca

import (
	"context"
	"embed"
	"os"

	"github.com/gaffer-sre/gaffer/internal/platform"
	"github.com/gaffer-sre/gaffer/internal/platform/audit"
	"github.com/gaffer-sre/gaffer/internal/platform/store"
	"github.com/gaffer-sre/gaffer/internal/platform/ui"
)

//go:embed migrations/*.sql
var migrationsFS embed.FS

//go:embed templates/*.html
var templatesFS embed.FS

// Module is the SSH CA's platform module, role "sshca".
var Module = platform.Module{
	Name:       "sshca",
	Migrations: store.MustSub(migrationsFS, "migrations"),
	New: func(ctx context.Context, deps *platform.Deps) (platform.Service, error) {
		return New(ctx, deps, os.Getenv)
	},
}

func init() { platform.Register(Module) }

// Service is the SSH CA running in a Gaffer process: the Authority plus
// its API, pages and demo data.
type Service struct {
	deps         *platform.Deps
	ca           *Authority
	audit        audit.Recorder
	oidc         *oidcVerifier
	oidcRequired bool

	pages map[string]*ui.Page
}

// New builds the service. getenv supplies the key-encryption key and OIDC
// settings (GAFFER_SSHCA_*). A job-only worker process gets a service
// without keys: it serves nothing.
func New(ctx context.Context, deps *platform.Deps, getenv func(string) string) (*Service, error) {
	s := &Service{deps: deps, audit: deps.Audit}
	if deps.Worker {
		return s, nil
	}
	kek, generated, err := LoadKEK(getenv, deps.DataDir)
	if err != nil {
		return nil, err
	}
	if generated {
		deps.Log.Warn("sshca: generated a key-encryption key for CA private keys in the data directory; "+
			"in production keep it elsewhere and pass it with $"+KEKEnv+" or $"+KEKFileEnv,
			"file", kek.Source, "kek_id", kek.ID)
	} else {
		deps.Log.Info("sshca: using the key-encryption key", "source", kek.Source, "kek_id", kek.ID)
	}
	s.ca = NewAuthority(deps.Store, kek, deps.Log)
	oc := OIDCConfigFromEnv(getenv)
	if err := oc.Validate(); err != nil {
		return nil, err
	}
	if oc.Issuer != "" {
		s.oidc, s.oidcRequired = newOIDCVerifier(oc), oc.Required
		deps.Log.Info("sshca: verifying OIDC ID tokens", "issuer", oc.Issuer, "required", oc.Required)
	}
	return s, nil
}

// Authority returns the CA itself, for Go callers.
func (s *Service) Authority() *Authority { return s.ca }

// Start creates the default CAs and policy on the first start.
func (s *Service) Start(ctx context.Context) error {
	if s.ca == nil {
		return nil
	}
	return s.ca.Initialize(ctx)
}

// Stop has no background work to end.
func (s *Service) Stop(ctx context.Context) error { return nil }

// Health reports whether the CA can read its keys and policies.
func (s *Service) Health(ctx context.Context) error {
	if s.ca == nil {
		return nil
	}
	_, err := s.ca.snapshot(ctx)
	return err
}
