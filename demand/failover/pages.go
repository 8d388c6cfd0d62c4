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
	get := func(path, summary string, h httpapi.HandlerFunc) {
		sh.Handle(httpapi.Route{Method: "GET", Path: path, Scope: ReadScope, Summary: summary, Handler: h})
	}
	post := func(path, action, summary string, h httpapi.HandlerFunc) {
		sh.Handle(httpapi.Route{Method: "POST", Path: path, Scope: WriteScope, Action: action, Summary: summary, Handler: h})
	}
	get("/failover", "Failover overview", p.overviewPage)
	get("/failover/fleets/{name}", "A fleet's regions, geographies and clusters", p.fleetPage)
	post("/failover/fleets", "failover.fleet.put", "Import a fleet from YAML", p.importFleet)
	post("/failover/fleets/{name}/clusters", "failover.cluster.update", "Change a cluster", p.editCluster)
	post("/failover/fleets/{name}/plans", "failover.plan.create", "Plan an evacuation or shift", p.createPlan)
	post("/failover/fleets/{name}/darkpools", "failover.darkpools.size", "Size dark pools now", p.sizeDark)
	get("/failover/plans", "Plans", p.plansPage)
	get("/failover/plans/{id}", "A plan's preview", p.planPage)
	post("/failover/plans/{id}/execute", "failover.plan.execute", "Execute a plan", p.executePlan)
	get("/failover/executions", "Executions", p.executionsPage)
	get("/failover/executions/{id}", "An execution", p.executionPage)
	for _, action := range []string{ActionPause, ActionResume, ActionAbort, ActionRollback} {
		post("/failover/executions/{id}/"+action, "failover.execution."+action, "Control an execution", p.control(action))
	}
	get("/failover/exercises", "Exercises", p.exercisesPage)
	get("/failover/exercises/{id}", "An exercise and its timeline", p.exercisePage)
	post("/failover/exercises", "failover.exercise.start", "Run an exercise", p.startExercise)
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
