package sshca

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gaffer-sre/gaffer/internal/platform"
	"github.com/gaffer-sre/gaffer/internal/platform/audit"
	"github.com/gaffer-sre/gaffer/internal/platform/jobs"
	"github.com/gaffer-sre/gaffer/internal/platform/store"
	"github.com/gaffer-sre/gaffer/internal/platform/ui"
	"github.com/gaffer-sre/gaffer/security/sshca/sshcaapi"
)

//go:embed migrations/*.sql
var migrationsFS embed.FS

//go:embed templates/*.html
var templatesFS embed.FS

// Name is the system's role name.
const Name = sshcaapi.Name

func init() {
	platform.Register(platform.Module{Name: Name, Migrations: store.MustSub(migrationsFS, "migrations"), Flags: flags, New: New,
		Commands: func() []*cobra.Command { return []*cobra.Command{newSSHCACommand(), newSSHCommand()} }})
}

// Settings configure the SSH CA in `gaffer serve` (flags, or GAFFER_SSHCA_*
// variables).
type Settings struct {
	// KEK is the key-encryption key itself: not a flag, New reads it from
	// $GAFFER_SSHCA_KEK when it is empty.
	KEK string
	// KEKPrevious are earlier keys, comma-separated: not a flag, New reads
	// them from $GAFFER_SSHCA_KEK_PREVIOUS when it is empty.
	KEKPrevious string
	// KEKFile names a file of key-encryption keys, the current first.
	KEKFile string
	// OIDC configures ID-token verification.
	OIDC OIDCConfig
	// CertRetention is how long records of expired certificates are kept
	// (0: forever). Expired certificates also leave the KRL, an hour after
	// they expire (sshd refuses them anyway).
	CertRetention time.Duration
	// Guard decides which policies only an admin may save.
	Guard PolicyGuard
}

// DefaultSettings are the flags' defaults, and the settings of a server
// that parsed no flags.
func DefaultSettings() *Settings {
	return &Settings{OIDC: OIDCConfig{UsernameClaim: "preferred_username", GroupsClaim: "groups"},
		CertRetention: DefaultCertRetention, Guard: DefaultPolicyGuard()}
}

func flags(fs *pflag.FlagSet) any {
	s := DefaultSettings()
	fs.StringVar(&s.KEKFile, "sshca-kek-file", s.KEKFile, "file with the key-encryption keys sealing SSH CA private keys "+
		"(32 bytes, base64, one a line, the current first; $"+KEKEnv+" may hold the key itself; default: generated in <data-dir>/"+KEKFileName+")")
	fs.StringVar(&s.OIDC.Issuer, "sshca-oidc-issuer", s.OIDC.Issuer, "OIDC issuer whose ID tokens prove identities to the SSH CA")
	fs.StringVar(&s.OIDC.JWKSURL, "sshca-oidc-jwks-url", s.OIDC.JWKSURL, "the issuer's JWKS URL (default: from OIDC discovery)")
	fs.StringVar(&s.OIDC.ClientID, "sshca-oidc-client-id", s.OIDC.ClientID, "audience the ID tokens must name")
	fs.StringVar(&s.OIDC.UsernameClaim, "sshca-oidc-username-claim", s.OIDC.UsernameClaim, "claim that is the identity (email: the part before @)")
	fs.StringVar(&s.OIDC.GroupsClaim, "sshca-oidc-groups-claim", s.OIDC.GroupsClaim, "claim listing the caller's groups")
	fs.BoolVar(&s.OIDC.Required, "sshca-oidc-required", s.OIDC.Required, "require an OIDC ID token with every signing request")
	fs.DurationVar(&s.CertRetention, "sshca-cert-retention", s.CertRetention, "how long records of expired SSH certificates are kept (0: forever)")
	fs.StringSliceVar(&s.Guard.BlockedUsernames, "sshca-blocked-usernames", s.Guard.BlockedUsernames,
		"user names a policy must keep on its username_blocklist unless an admin saves it")
	fs.DurationVar(&s.Guard.MaxUserValidity, "sshca-max-user-validity", s.Guard.MaxUserValidity,
		"longest max_validity of a user policy saved without the admin scope")
	fs.DurationVar(&s.Guard.MaxHostValidity, "sshca-max-host-validity", s.Guard.MaxHostValidity,
		"longest max_validity of a host policy saved without the admin scope")
	return s
}

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

// New builds the service from the module's settings, with the
// key-encryption keys of $GAFFER_SSHCA_KEK and $GAFFER_SSHCA_KEK_PREVIOUS
// unless the settings carry them. A job-only worker process gets a
// service without keys: it serves nothing.
func New(ctx context.Context, deps *platform.Deps) (platform.Service, error) {
	settings := *platform.SettingOr(deps, Name, DefaultSettings)
	if settings.KEK == "" {
		settings.KEK = os.Getenv(KEKEnv)
	}
	if settings.KEKPrevious == "" {
		settings.KEKPrevious = os.Getenv(KEKPreviousEnv)
	}
	s := &Service{deps: deps, audit: deps.Audit}
	if settings.CertRetention < 0 {
		return nil, errors.New("sshca-cert-retention: must not be negative")
	}
	if err := settings.Guard.validate(); err != nil {
		return nil, err
	}
	if deps.Worker {
		// A worker only prunes: it needs no key-encryption key.
		s.ca = NewAuthority(deps.Store, nil, deps.Log)
		s.ca.now = deps.Clock()
		return s, s.registerJobs(settings.CertRetention)
	}
	keys, generated, err := LoadKeyring(settings.KEK, settings.KEKPrevious, settings.KEKFile, deps.KEKCommand, deps.DataDir)
	if err != nil {
		return nil, err
	}
	if generated {
		// A warning, except in a demo, whose keys guard demo data.
		logKEK := deps.Log.Warn
		if deps.Demo {
			logKEK = deps.Log.Info
		}
		logKEK("sshca: generated a key-encryption key for CA private keys in the data directory; "+
			"in production keep it elsewhere and pass it with --sshca-kek-file or $"+KEKEnv,
			"file", keys.Source(), "kek_id", keys.CurrentID())
	} else {
		deps.Log.Info("sshca: using the key-encryption key", "source", keys.Source(), "kek_id", keys.CurrentID())
	}
	s.ca = NewAuthority(deps.Store, keys, deps.Log)
	s.ca.now = deps.Clock()
	s.ca.guard = settings.Guard
	if deps.Bus != nil {
		s.ca.publish = s.busPublisher(deps.Bus)
	}
	oc := settings.OIDC
	if err := oc.Validate(); err != nil {
		return nil, err
	}
	if oc.Issuer != "" {
		s.oidc, s.oidcRequired = newOIDCVerifier(oc), oc.Required
		deps.Log.Info("sshca: verifying OIDC ID tokens", "issuer", oc.Issuer, "required", oc.Required)
	}
	return s, s.registerJobs(settings.CertRetention)
}

// DefaultCertRetention keeps expired certificates' records for 30 days.
const DefaultCertRetention = 30 * 24 * time.Hour

// pruneArgs are the arguments of the hourly sshca.prune job.
type pruneArgs struct {
	Retention time.Duration `json:"retention"`
}

// registerJobs declares the hourly job that deletes the records of
// certificates expired longer ago than retention.
func (s *Service) registerJobs(retention time.Duration) error {
	if retention == 0 || s.deps.Jobs == nil {
		return nil
	}
	jobs.HandleFunc(s.deps.Jobs, "sshca.prune", jobs.KindOptions{MaxAttempts: 3},
		func(ctx context.Context, job *jobs.Job, args pruneArgs) error {
			n, err := s.ca.PruneExpired(ctx, s.ca.now().Add(-args.Retention))
			if err == nil && n > 0 {
				s.deps.Log.Info("sshca: pruned expired certificate records", "count", n)
			}
			return err
		})
	return s.deps.Jobs.Every("sshca.prune", time.Hour, pruneArgs{Retention: retention}, false)
}

// Authority returns the CA itself, for Go callers.
func (s *Service) Authority() *Authority { return s.ca }

// Start re-seals, under the current key-encryption key, every CA key
// still sealed with an older one or in the format used before the
// keyring, then creates the default CAs and policy on the first start.
func (s *Service) Start(ctx context.Context) error {
	if s.ca == nil || s.ca.keys == nil {
		return nil
	}
	n, err := s.ca.Rewrap(ctx)
	if err != nil {
		return fmt.Errorf("sshca: re-seal CA keys under the current key-encryption key: %w", err)
	}
	if n > 0 {
		s.deps.Log.Info("sshca: re-sealed CA private keys under the current key-encryption key; the old key can be removed",
			"keys", n, "kek_id", s.ca.keys.CurrentID())
	}
	return s.ca.Initialize(ctx)
}

// Stop has no background work to end.
func (s *Service) Stop(ctx context.Context) error { return nil }

// Health reports whether the CA can read its keys and policies.
func (s *Service) Health(ctx context.Context) error {
	if s.ca == nil || s.ca.keys == nil {
		return nil
	}
	_, err := s.ca.snapshot(ctx)
	return err
}
