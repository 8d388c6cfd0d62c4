// Package platform defines how a Gaffer system plugs into the binary: a
// Module names the system and constructs its Service from the shared
// dependencies (store, bus, jobs, audit log, tokens), and the Service has
// one small lifecycle — start, stop, health — plus optional routes, UI
// pages and demo data. A new system registers its Module from an init
// function and changes no other file but cmd/gaffer's list of systems.
package platform

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gaffer-sre/gaffer/internal/platform/audit"
	"github.com/gaffer-sre/gaffer/internal/platform/auth"
	"github.com/gaffer-sre/gaffer/internal/platform/bus"
	"github.com/gaffer-sre/gaffer/internal/platform/egress"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
	"github.com/gaffer-sre/gaffer/internal/platform/jobs"
	"github.com/gaffer-sre/gaffer/internal/platform/store"
	"github.com/gaffer-sre/gaffer/internal/platform/ui"
	"github.com/gaffer-sre/gaffer/telemetry/spectator"
)

// Service is one system running in the process.
//
// The server calls, in order: the module's New (in dependency order),
// Start (same order, once), then Stop (reverse order) when it shuts down.
// Stop may come without Start (a start that failed earlier) and may come
// twice; both must be safe.
type Service interface {
	// Start begins background work (consumers, loops). It must return
	// promptly; long-running work goes in goroutines stopped by Stop.
	Start(ctx context.Context) error
	// Stop ends background work, letting in-flight work finish until ctx
	// is done. It must work without a Start and when called again.
	Stop(ctx context.Context) error
	// Health reports whether the service can do its job (for /readyz):
	// what only the system knows, such as a consumer that stopped. The
	// server checks the database and the bus once itself, so Health does
	// not query them to prove they answer.
	Health(ctx context.Context) error
}

// RouteProvider is a Service with HTTP API routes.
type RouteProvider interface {
	Routes(r *httpapi.Router)
}

// PageProvider is a Service with UI pages.
type PageProvider interface {
	Pages(s *ui.Shell)
}

// DemoLoader is a Service that can fill itself with demo data for
// `gaffer serve --demo`. It is called after Start, and must be idempotent
// (the demo may be loaded into a data directory that already has it).
type DemoLoader interface {
	LoadDemo(ctx context.Context) error
}

// Deps are what every system may use. Systems must not reach into each
// other's tables; they call each other through Lookup or publish events.
type Deps struct {
	Log    *slog.Logger
	Store  *store.Store
	Bus    *bus.Bus
	Jobs   *jobs.Queue
	Audit  *audit.Log
	Tokens *auth.Tokens
	// Metrics records the system's own measurements (Spectator meters);
	// they land in Gaffer's own store and on GET /metrics.
	Metrics *spectator.Registry
	DataDir string
	// Demo is true under `gaffer serve --demo`.
	Demo bool
	// Worker is true in `gaffer worker`: only job handlers will run.
	Worker bool
	// Stopping is closed when the process starts shutting down, before it
	// waits for in-flight HTTP requests: long-lived responses (server-sent
	// events) end on it so that they do not hold the shutdown up.
	Stopping <-chan struct{}
	// Now is the clock every system reads instead of time.Now, so that a
	// test can fix the time of day; the server sets it (never nil there).
	// Durations measured for logs and metrics may use the wall clock.
	Now func() time.Time
	// Egress is the policy every outbound request made on a user's
	// behalf (webhooks, runbook http steps, scans, validations) dials
	// through: build clients with Egress.Client and raw connections with
	// Egress.DialContext, never an http.Client or net.Dialer of your own.
	// nil is the default policy (loopback, link-local, private ranges
	// refused), which is what a system constructed without a server gets.
	Egress *egress.Policy
	// KEKCommand is --kek-command: a shell command that prints a
	// key-encryption key, run with the key's name in $GAFFER_KEK_NAME (see
	// seal.RunCommand). Systems that seal secrets at rest use it when the
	// operator gives no key or key file of their own; empty means none.
	KEKCommand string
	// Settings holds each module's settings as returned by its Flags
	// function, by module name; see Module.Flags.
	Settings map[string]any

	mu        sync.Mutex
	services  map[string]Service
	demoStart time.Time
}

// Clock returns Now, or time.Now for a Deps built without one (a
// system constructed by hand in a test).
func (d *Deps) Clock() func() time.Time {
	if d.Now != nil {
		return d.Now
	}
	return time.Now
}

// Lookup returns the running service of another system, for calling its Go
// API through an interface of its leaf package. It reports false when that
// system is not running in this process (its role was not selected).
// LookupAs is the typed form.
func (d *Deps) Lookup(name string) (Service, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	s, ok := d.services[name]
	return s, ok
}

// Provide records a constructed service so that later modules can Lookup
// it. The server calls it; systems do not.
func (d *Deps) Provide(name string, s Service) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.services == nil {
		d.services = map[string]Service{}
	}
	d.services[name] = s
}

// Module describes a system that can run in Gaffer.
type Module struct {
	// Name is the system's role name (--roles), e.g. "events".
	Name string
	// FormerNames are names the system had before; --roles still accepts
	// them, and its migration records move to Name on start.
	FormerNames []string
	// Requires lists modules that must be constructed first when they are
	// selected, by the Name constant of their leaf package (metricsapi.Name);
	// a module must still work (or fail clearly) when they are not selected
	// or not compiled in. A name no system declares (see Declare), or a
	// cycle, is an error.
	Requires []string
	// Migrations holds the system's NNN_name.sql files, applied before New.
	Migrations fs.FS
	// Flags, when set, adds the system's own settings to `gaffer serve`
	// and `gaffer worker` and returns the value they are parsed into
	// (typically a pointer to a settings struct with defaults filled in).
	// The server hands it back in Deps.Settings[Name]. Flags is called
	// once per command or test server, so settings are never global.
	Flags func(fs *pflag.FlagSet) any
	// Commands, when set, returns the system's top-level CLI commands
	// (client verbs and local tools); cmd/gaffer adds them to the root
	// command whether or not the system runs in this process.
	Commands func() []*cobra.Command
	// New constructs the service. It registers job kinds on deps.Jobs;
	// it must not start background work (Start does).
	New func(ctx context.Context, deps *Deps) (Service, error)
}

// AddModuleFlags calls every registered module's Flags on fs and returns
// their settings by module name.
func AddModuleFlags(fs *pflag.FlagSet) (map[string]any, error) {
	modules, err := Modules()
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	for _, m := range modules {
		if m.Flags != nil {
			out[m.Name] = m.Flags(fs)
		}
	}
	return out, nil
}

// Setting returns the settings of module name as T, or the zero T (nil for
// a pointer) when the module has no settings in this server; a module then
// falls back to its defaults.
func Setting[T any](d *Deps, name string) T {
	v, _ := d.Settings[name].(T)
	return v
}

// SettingOr returns the settings of module name as T, or def() when the
// module has none in this server (or they are the zero T).
func SettingOr[T comparable](d *Deps, name string, def func() T) T {
	var zero T
	if v := Setting[T](d, name); v != zero {
		return v
	}
	return def()
}

var (
	registryMu sync.Mutex
	registry   = map[string]Module{}
)

// declared holds the names of systems whose leaf packages are linked in,
// whether or not the systems themselves are; see Declare.
var declared = map[string]bool{}

// Declare records that name is a system's name and scopes the scopes its
// routes check. Each system's leaf package calls it from init, so that a
// module may require a system that a binary or a test leaves out, while a
// name no system declares is an error; and so that an API token may be
// granted a declared system's scopes and no others (auth.CheckDefined).
func Declare(name string, scopes ...string) {
	auth.DefineScopes(scopes...)
	registryMu.Lock()
	defer registryMu.Unlock()
	declared[name] = true
}

// Register adds a module. Registering a name twice panics.
func Register(m Module) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if m.Name == "" || m.New == nil {
		panic("platform: module needs a name and a constructor")
	}
	if _, dup := registry[m.Name]; dup {
		panic("platform: module " + m.Name + " registered twice")
	}
	registry[m.Name] = m
}

// Modules returns the registered modules in dependency order (each after
// the modules it requires), ties broken by name.
func Modules() ([]Module, error) {
	registryMu.Lock()
	defer registryMu.Unlock()
	return dependencyOrder(registry, declared)
}

// dependencyOrder sorts modules so that each comes after those it
// requires, ties broken by name; an unknown requirement or a cycle is an
// error, but a declared system that is not registered is left out.
func dependencyOrder(registry map[string]Module, declared map[string]bool) ([]Module, error) {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []Module
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(string, []string) error
	visit = func(n string, path []string) error {
		switch state[n] {
		case 1:
			return fmt.Errorf("platform: modules require each other: %v", append(path, n))
		case 2:
			return nil
		}
		m, ok := registry[n]
		if !ok {
			if declared[n] {
				return nil // a system this binary (or test) leaves out
			}
			return fmt.Errorf("platform: module %s requires %q, which names no system (a requirement is the Name of a system's leaf package)", path[len(path)-1], n)
		}
		state[n] = 1
		for _, r := range m.Requires {
			if err := visit(r, append(path, n)); err != nil {
				return err
			}
		}
		state[n] = 2
		out = append(out, m)
		return nil
	}
	for _, n := range names {
		if err := visit(n, nil); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// LookupAs returns the running service of system name as T: the interface
// that system's leaf package declares. The error says whether the system
// does not run in this process or does not offer T.
func LookupAs[T any](d *Deps, name string) (T, error) {
	var zero T
	if d == nil {
		return zero, fmt.Errorf("the %s system is not running in this process", name)
	}
	svc, ok := d.Lookup(name)
	if !ok {
		return zero, fmt.Errorf("the %s system is not running in this process (start it with role %s)", name, name)
	}
	t, ok := svc.(T)
	if !ok {
		return zero, fmt.Errorf("the %s service (%T) does not offer %T", name, svc, (*T)(nil))
	}
	return t, nil
}
