package changepoint

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"runtime"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gaffer-sre/gaffer/analysis/changepoint/changepointapi"
	"github.com/gaffer-sre/gaffer/internal/platform"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
	"github.com/gaffer-sre/gaffer/internal/platform/ui"
	"github.com/gaffer-sre/gaffer/telemetry/metrics/metricsapi"
)

// Name is the system's role name.
const Name = changepointapi.Name

// Scope grants every changepoint call: none of them changes state.
const Scope = changepointapi.Scope

// MaxValues bounds the values (samples times dimensions) of one signal.
const MaxValues = 1_000_000

// DefaultBudget is the time one detection may take before it is stopped.
const DefaultBudget = 10 * time.Second

//go:embed templates/*.html
var templates embed.FS

//go:embed assets
var assets embed.FS

func init() {
	platform.Register(platform.Module{Name: Name, Requires: []string{metricsapi.Name}, Flags: flags, New: New,
		Commands: func() []*cobra.Command { return []*cobra.Command{newChangepointCommand()} }})
}

// Settings are the system's flags of `gaffer serve`.
type Settings struct {
	// Budget bounds the time of one detection request.
	Budget time.Duration
}

// DefaultSettings are the flags' defaults, and the settings of a server
// that parsed no flags.
func DefaultSettings() *Settings {
	return &Settings{Budget: DefaultBudget}
}

func flags(fs *pflag.FlagSet) any {
	s := DefaultSettings()
	fs.DurationVar(&s.Budget, "changepoint-budget", s.Budget,
		"time one change-point detection request may take before it is stopped")
	return s
}

// Service is the running changepoint system.
type Service struct {
	log *slog.Logger
	// budget bounds the time of one detection.
	budget time.Duration
	// slots bounds concurrent detections.
	slots chan struct{}
	// source finds the metrics store for the series endpoint.
	source func() (Source, error)
	now    func() time.Time // the platform's clock (deps.Clock)
	page   *ui.Page
}

// New constructs the service; it needs nothing but deps.Lookup, through
// which it finds the metrics system when a series is asked for.
func New(_ context.Context, deps *platform.Deps) (platform.Service, error) {
	log := deps.Log
	if log == nil {
		log = slog.Default()
	}
	set := platform.SettingOr(deps, Name, DefaultSettings)
	if set.Budget <= 0 {
		return nil, fmt.Errorf("--changepoint-budget must be positive, got %s", set.Budget)
	}
	return &Service{
		log:    log.With("system", Name),
		budget: set.Budget,
		slots:  make(chan struct{}, runtime.GOMAXPROCS(0)),
		source: func() (Source, error) { return lookupSource(deps) },
		now:    deps.Clock(),
	}, nil
}

// Start does nothing: the service has no background work.
func (s *Service) Start(context.Context) error { return nil }

// Stop does nothing: detections end with their requests.
func (s *Service) Stop(context.Context) error { return nil }

// Health reports the service as always able to detect.
func (s *Service) Health(context.Context) error { return nil }

// Routes registers the API.
func (s *Service) Routes(r *httpapi.Router) {
	r.Handle(httpapi.Route{Method: "POST", Path: "/api/v1/changepoint/detect", Scope: Scope, Action: "changepoint.signal.detect", Unaudited: true,
		Summary: "Find the change points of a signal (ruptures' methods and costs)",
		Request: DetectRequest{}, Response: DetectResponse{}, Handler: s.handleDetect})
	r.Handle(httpapi.Route{Method: "GET", Path: "/api/v1/changepoint/series", Scope: Scope,
		Summary: "Find the change points of stored metrics (a PromQL range query)",
		Query:   seriesQueryDoc, Response: SeriesResponse{}, Handler: s.handleSeries})
}

// Pages registers the "Change points" page and its script.
func (s *Service) Pages(sh *ui.Shell) {
	s.page = sh.Parse(templates, "templates/changepoint.html")
	sh.Nav(ui.NavItem{Title: "Change points", Path: "/changepoint", Scope: Scope, Order: 300})
	sh.Handle(httpapi.Route{Method: "GET", Path: "/changepoint", Scope: Scope, Summary: "Change points page",
		Handler: s.pageGet})
	sh.Handle(httpapi.Route{Method: "POST", Path: "/changepoint", Scope: Scope, Summary: "Segment a pasted or uploaded signal",
		Action: "changepoint.signal.detect", Handler: s.pagePost})
	static, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(fmt.Sprintf("changepoint: embedded assets: %v", err))
	}
	sh.Handle(httpapi.Route{Method: "GET", Path: "/changepoint/assets/", Public: true, Summary: "Change points page script",
		Handler: ui.Assets("/changepoint/assets/", static)})
}
