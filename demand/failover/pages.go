package failover

import (
	"embed"
	"errors"
	"net/http"

	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
	"github.com/gaffer-sre/gaffer/internal/platform/ui"
)

//go:embed templates/*.html
var templates embed.FS

// pages are the failover UI: an overview, a fleet's regions and clusters,
// plans with their diff, executions and exercises with their timeline.
type pages struct {
	s                                                   *Service
	overview, fleet, plans, plan, execs, exec, xs, xone *ui.Page
}

func newPages(s *Service, sh *ui.Shell) *pages {
	parse := func(name string) *ui.Page {
		return sh.Parse(templates, "templates/"+name+".html", "templates/parts.html")
	}
	p := &pages{s: s, overview: parse("overview"), fleet: parse("fleet"), plans: parse("plans"), plan: parse("plan"),
		execs: parse("executions"), exec: parse("execution"), xs: parse("exercises"), xone: parse("exercise")}
	sh.Nav(ui.NavItem{Title: "Failover", Path: "/failover", Scope: ReadScope, Order: 400})
	sh.Handle(httpapi.Route{Method: "GET", Path: "/failover", Scope: ReadScope,
		Summary: "Failover overview", Handler: p.overviewPage})
	sh.Handle(httpapi.Route{Method: "GET", Path: "/failover/fleets/{name}", Scope: ReadScope,
		Summary: "A fleet's regions, geographies and clusters", Handler: p.fleetPage})
	sh.Handle(httpapi.Route{Method: "POST", Path: "/failover/fleets", Scope: WriteScope, Action: "failover.fleet.put",
		Summary: "Import a fleet from YAML", Handler: p.importFleet})
	sh.Handle(httpapi.Route{Method: "POST", Path: "/failover/fleets/{name}/clusters", Scope: WriteScope, Action: "failover.cluster.update",
		Summary: "Change a cluster", Handler: p.editCluster})
	sh.Handle(httpapi.Route{Method: "POST", Path: "/failover/fleets/{name}/plans", Scope: WriteScope, Action: "failover.plan.create",
		Summary: "Plan an evacuation or shift", Handler: p.createPlan})
	sh.Handle(httpapi.Route{Method: "POST", Path: "/failover/fleets/{name}/darkpools", Scope: WriteScope, Action: "failover.darkpools.size",
		Summary: "Size dark pools now", Handler: p.sizeDark})
	sh.Handle(httpapi.Route{Method: "GET", Path: "/failover/plans", Scope: ReadScope, Summary: "Plans", Handler: p.plansPage})
	sh.Handle(httpapi.Route{Method: "GET", Path: "/failover/plans/{id}", Scope: ReadScope,
		Summary: "A plan's preview", Handler: p.planPage})
	sh.Handle(httpapi.Route{Method: "POST", Path: "/failover/plans/{id}/execute", Scope: WriteScope, Action: "failover.plan.execute",
		Summary: "Execute a plan", Handler: p.executePlan})
	sh.Handle(httpapi.Route{Method: "GET", Path: "/failover/executions", Scope: ReadScope,
		Summary: "Executions", Handler: p.executionsPage})
	sh.Handle(httpapi.Route{Method: "GET", Path: "/failover/executions/{id}", Scope: ReadScope,
		Summary: "An execution", Handler: p.executionPage})
	for _, action := range []string{ActionPause, ActionResume, ActionAbort, ActionRollback} {
		sh.Handle(httpapi.Route{Method: "POST", Path: "/failover/executions/{id}/" + action, Scope: WriteScope, Action: "failover.execution." + action,
			Summary: "Control an execution", Handler: p.control(action)})
	}
	sh.Handle(httpapi.Route{Method: "GET", Path: "/failover/exercises", Scope: ReadScope,
		Summary: "Exercises", Handler: p.exercisesPage})
	sh.Handle(httpapi.Route{Method: "GET", Path: "/failover/exercises/{id}", Scope: ReadScope,
		Summary: "An exercise and its timeline", Handler: p.exercisePage})
	sh.Handle(httpapi.Route{Method: "POST", Path: "/failover/exercises", Scope: WriteScope, Action: "failover.exercise.start",
		Summary: "Run an exercise", Handler: p.startExercise})
	return p
}

// pageError turns the service's errors into error pages with the right
// status; a bad form re-renders with its message instead (see callers).
func pageError(err error) error {
	return apiError(err)
}

// formError is the message of an error that a form should show.
func formError(err error) (string, bool) {
	var he *httpapi.Error
	if errors.As(apiError(err), &he) && he.Status < 500 {
		return he.Message, true
	}
	return "", false
}

func redirect(w http.ResponseWriter, r *http.Request, to string) error {
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}
