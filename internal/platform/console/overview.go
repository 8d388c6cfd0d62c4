package console

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform"
	"github.com/gaffer-sre/gaffer/internal/platform/auth"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
)

// Source is one running system that contributes panels to the overview.
type Source struct {
	// System is the module name; it titles the panel that reports the
	// provider's failure.
	System   string
	Provider platform.OverviewProvider
}

// DefaultOverviewTimeout is how long the overview waits for each provider.
const DefaultOverviewTimeout = 3 * time.Second

// Overview is the body of GET /api/v1/overview: the panels the caller may
// see, in page order, and the health of every component.
type Overview struct {
	Panels []platform.Panel  `json:"panels"`
	Health map[string]string `json:"health"`
}

// overview asks every provider for its panels at once, each bounded by the
// overview timeout, and returns those principal may see, in page order. A
// provider that fails, panics or is late yields one panel naming the
// problem; it never holds the others up beyond the timeout.
func (c *Console) overview(ctx context.Context, p *auth.Principal) []platform.Panel {
	type answer struct {
		i      int
		panels []platform.Panel
		err    error
	}
	ctx, cancel := context.WithTimeout(ctx, c.overviewTimeout)
	defer cancel()
	answers := make(chan answer, len(c.sources)) // buffered: a late provider never blocks
	for i, src := range c.sources {
		go func() {
			panels, err := askProvider(ctx, src.Provider)
			answers <- answer{i, panels, err}
		}()
	}
	results := make([][]platform.Panel, len(c.sources))
	answered := make([]bool, len(c.sources))
wait:
	for range c.sources {
		select {
		case a := <-answers:
			answered[a.i] = true
			results[a.i] = a.panels
			if a.err != nil {
				results[a.i] = []platform.Panel{c.failedPanel(a.i, a.err.Error())}
			}
		case <-ctx.Done():
			break wait
		}
	}
	var out []platform.Panel
	for i, src := range c.sources {
		if !answered[i] {
			results[i] = []platform.Panel{c.failedPanel(i, fmt.Sprintf("did not answer within %s", c.overviewTimeout))}
		}
		for _, panel := range results[i] {
			panel.System = src.System
			if panel.Rows == nil {
				panel.Rows = []platform.Row{}
			}
			if p.Has(panelScope(panel)) {
				out = append(out, panel)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Section < out[j].Section })
	return out
}

// askProvider calls one provider, turning a panic into an error so that
// one system's bug cannot take the page (or the process) down.
func askProvider(ctx context.Context, p platform.OverviewProvider) (panels []platform.Panel, err error) {
	defer func() {
		if v := recover(); v != nil {
			panels, err = nil, fmt.Errorf("overview panicked: %v", v)
		}
	}()
	return p.Overview(ctx)
}

func (c *Console) failedPanel(i int, msg string) platform.Panel {
	return platform.Panel{Section: platform.SectionUnavailable, Title: c.sources[i].System, Error: msg}
}

// panelScope is the scope a caller needs to see a panel: the one it
// names, else its system's read scope.
func panelScope(p platform.Panel) string {
	if p.Scope != "" {
		return p.Scope
	}
	return p.System + ":read"
}

// overviewAndHealth gathers the panels principal may see and the health
// checks at the same time, so that the slower bounds the wait.
func (c *Console) overviewAndHealth(ctx context.Context, p *auth.Principal) Overview {
	health := make(chan map[string]string, 1)
	go func() { health <- c.checks(ctx) }()
	panels := c.overview(ctx, p)
	return Overview{Panels: panels, Health: <-health}
}

// getOverview answers the overview as JSON (GET /api/v1/overview).
func (c *Console) getOverview(w http.ResponseWriter, r *http.Request) error {
	return httpapi.WriteJSON(w, http.StatusOK, c.overviewAndHealth(r.Context(), auth.FromContext(r.Context())))
}
