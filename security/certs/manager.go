package certs

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/audit"
	"github.com/gaffer-sre/gaffer/internal/platform/auth"
	"github.com/gaffer-sre/gaffer/internal/platform/bus"
	"github.com/gaffer-sre/gaffer/internal/platform/egress"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
	"github.com/gaffer-sre/gaffer/internal/platform/seal"
	"github.com/gaffer-sre/gaffer/internal/platform/store"
)

// Manager is the certificate manager's Go API: authorities, issuance,
// the inventory, revocation, CRLs and OCSP over the store. It is safe for
// concurrent use.
type Manager struct {
	store *store.Store
	keys  *seal.Keyring
	urls  URLs
	log   *slog.Logger
	audit audit.Recorder
	// now is the clock (tests move it).
	now func() time.Time
	// defaultAuthority issues when a request names none ("" picks the
	// only online intermediate).
	defaultAuthority string

	// notifyDays are the default expiry notification thresholds.
	notifyDays []int
	// bus receives expiry notifications; nil publishes nothing.
	bus *bus.Bus
	// egress is the policy scans, webhook destinations and ACME
	// validations dial through.
	egress *egress.Policy
	// httpClient posts to webhook destinations, under egress, following
	// no redirects (the body carries the private key).
	httpClient *http.Client

	mu   sync.Mutex
	cas  map[string]*CA
	crls map[string]*crlCache
	ocsp *ocspCache
}

// ManagerOptions configure a Manager.
type ManagerOptions struct {
	Store *store.Store
	Keys  *seal.Keyring
	URLs  URLs
	Log   *slog.Logger
	// Audit records actions taken outside HTTP requests (jobs, refusals
	// of the ACME server); nil records nothing.
	Audit audit.Recorder
	// DefaultAuthority is used when a request names none.
	DefaultAuthority string
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Egress is the outbound policy (platform.Deps.Egress); nil refuses
	// loopback, link-local and private addresses.
	Egress *egress.Policy
	// DestinationRoots verify webhook destinations' https servers; nil
	// uses the system's roots.
	DestinationRoots *x509.CertPool
}

// NewManager returns a Manager.
func NewManager(o ManagerOptions) *Manager {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Manager{store: o.Store, keys: o.Keys, urls: o.URLs, log: o.Log, audit: o.Audit, now: o.Now,
		defaultAuthority: o.DefaultAuthority, egress: o.Egress,
		httpClient: o.Egress.Client(egress.ClientOptions{Timeout: 30 * time.Second, TLS: &tls.Config{RootCAs: o.DestinationRoots}}), cas: map[string]*CA{}, crls: map[string]*crlCache{}, ocsp: newOCSPCache()}
}

// Store returns the manager's store.
func (m *Manager) Store() *store.Store { return m.store }

// Keys returns the key-encryption keyring.
func (m *Manager) Keys() *seal.Keyring { return m.keys }

// record writes an audit entry for an action outside an HTTP request. The
// actor is the context's principal, else "certs".
func (m *Manager) record(ctx context.Context, action, target, outcome, detail string) {
	if m.audit == nil {
		return
	}
	actor := "system:certs"
	if p := auth.FromContext(ctx); p != nil {
		actor = p.Actor()
	}
	status := 200
	if outcome != audit.OutcomeSuccess {
		status = 422
	}
	if err := m.audit.Record(ctx, audit.Entry{Actor: actor, Action: action, Target: target, Outcome: outcome,
		Status: status, RequestID: httpapi.RequestID(ctx), Detail: detail}); err != nil {
		m.log.Error("certs: audit record failed", "action", action, "error", err)
	}
}

// actor names the caller in the inventory's created_by.
func actor(ctx context.Context) string {
	if p := auth.FromContext(ctx); p != nil {
		return p.Actor()
	}
	return "system:certs"
}

// ErrNotFound is returned for an unknown authority or certificate.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned for a name already taken or a state that forbids
// the change.
var ErrConflict = errors.New("conflict")
