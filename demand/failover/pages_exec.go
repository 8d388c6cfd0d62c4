package failover

import (
	"net/http"
	"strconv"

	"github.com/gaffer-sre/gaffer/demand/failover/plan"
)

type plansData struct {
	format
	Plans []PlanSummary
	Next  string
}

func (p *pages) plansPage(w http.ResponseWriter, r *http.Request) error {
	limit, before, err := pageParams(r)
	if err != nil {
		return err
	}
	ps, next, err := p.s.Plans(r.Context(), r.URL.Query().Get("fleet"), before, limit)
	if err != nil {
		return err
	}
	return p.plans.Render(w, r, http.StatusOK, "Failover plans", plansData{Plans: ps, Next: cursor(next)})
}

type planData struct {
	format
	Plan      *PlanRecord
	Diff      []plan.DiffLine
	More      int
	Changed   []plan.ClusterChange
	Error     string
	Receiving int
}

const maxDiffLines = 400

func (p *pages) planPage(w http.ResponseWriter, r *http.Request) error {
	return p.renderPlan(w, r, http.StatusOK, "")
}

func (p *pages) renderPlan(w http.ResponseWriter, r *http.Request, status int, msg string) error {
	rec, err := p.s.Plan(r.Context(), r.PathValue("id"))
	if err != nil {
		return pageError(err)
	}
	d := planData{Plan: rec, Diff: rec.Diff(), Error: msg, Receiving: len(rec.ReceivingClusters())}
	if len(d.Diff) > maxDiffLines {
		d.More = len(d.Diff) - maxDiffLines
		d.Diff = d.Diff[:maxDiffLines]
	}
	return p.plan.Render(w, r, status, "Plan "+rec.ID, d)
}

func (p *pages) executePlan(w http.ResponseWriter, r *http.Request) error {
	ex, err := p.s.Execute(r.Context(), r.PathValue("id"), ExecuteOptions{By: actor(r)})
	if err != nil {
		if msg, ok := formError(err); ok {
			return p.renderPlan(w, r, http.StatusConflict, msg)
		}
		return err
	}
	return redirect(w, r, "/failover/executions/"+ex.ID)
}

type executionsData struct {
	format
	Executions []*Execution
	Next       string
}

func (p *pages) executionsPage(w http.ResponseWriter, r *http.Request) error {
	limit, before, err := pageParams(r)
	if err != nil {
		return err
	}
	xs, next, err := p.s.Executions(r.Context(), r.URL.Query().Get("status"), before, limit)
	if err != nil {
		return err
	}
	return p.execs.Render(w, r, http.StatusOK, "Failover executions", executionsData{Executions: xs, Next: cursor(next)})
}

type executionData struct {
	format
	Execution *Execution
	Plan      *PlanRecord
	Chart     *chart
	Active    bool
	Error     string
}

func (p *pages) executionPage(w http.ResponseWriter, r *http.Request) error {
	return p.renderExecution(w, r, http.StatusOK, "")
}

func (p *pages) renderExecution(w http.ResponseWriter, r *http.Request, status int, msg string) error {
	ex, err := p.s.Execution(r.Context(), r.PathValue("id"))
	if err != nil {
		return pageError(err)
	}
	rec, err := p.s.Plan(r.Context(), ex.PlanID)
	if err != nil {
		return err
	}
	d := executionData{Execution: ex, Plan: rec, Chart: newChart(phasesOf(ex)), Active: active(ex.Status), Error: msg}
	if r.Header.Get("HX-Request") == "true" {
		return p.exec.RenderFragment(w, r, "live", d)
	}
	return p.exec.Render(w, r, status, "Execution "+ex.ID, d)
}

// phasesOf is an execution's timeline: its started steps on its clock
// (a step still running ends now).
func phasesOf(ex *Execution) []Phase {
	var out []Phase
	for _, st := range ex.Steps {
		if st.Start == nil {
			continue
		}
		ph := Phase{Phase: st.Kind, Name: st.Name, Status: st.Status, Start: *st.Start, End: ex.ClockSeconds, WallSeconds: st.Wall}
		if st.End != nil {
			ph.End = *st.End
		}
		out = append(out, ph)
	}
	return out
}

func (p *pages) control(action string) func(w http.ResponseWriter, r *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		if _, err := p.s.Control(r.Context(), r.PathValue("id"), action, actor(r)); err != nil {
			if msg, ok := formError(err); ok {
				return p.renderExecution(w, r, http.StatusConflict, msg)
			}
			return err
		}
		return redirect(w, r, "/failover/executions/"+r.PathValue("id"))
	}
}

type exercisesData struct {
	format
	Exercises []*Exercise
	Error     string
}

func (p *pages) exercisesPage(w http.ResponseWriter, r *http.Request) error {
	return p.renderExercises(w, r, http.StatusOK, "")
}

func (p *pages) renderExercises(w http.ResponseWriter, r *http.Request, status int, msg string) error {
	xs, err := p.s.Exercises(r.Context(), 20)
	if err != nil {
		return err
	}
	return p.xs.Render(w, r, status, "Failover exercises", exercisesData{Exercises: xs, Error: msg})
}

type exerciseData struct {
	format
	Exercise *Exercise
	Chart    *chart
}

func (p *pages) exercisePage(w http.ResponseWriter, r *http.Request) error {
	x, err := p.s.Exercise(r.Context(), r.PathValue("id"))
	if err != nil {
		return pageError(err)
	}
	d := exerciseData{Exercise: x}
	if x.Report != nil {
		d.Chart = newChart(x.Report.Timeline)
	} else if x.ExecutionID != "" {
		if ex, err := p.s.Execution(r.Context(), x.ExecutionID); err == nil {
			d.Chart = newChart(phasesOf(ex))
		}
	}
	if r.Header.Get("HX-Request") == "true" {
		return p.xone.RenderFragment(w, r, "live", d)
	}
	return p.xone.Render(w, r, http.StatusOK, "Exercise "+x.ID, d)
}

func (p *pages) startExercise(w http.ResponseWriter, r *http.Request) error {
	atoi := func(name string, def int) int {
		if n, err := strconv.Atoi(r.FormValue(name)); err == nil {
			return n
		}
		return def
	}
	dark := r.FormValue("dark") != ""
	req := ExerciseRequest{Regions: atoi("regions", 3), Clusters: atoi("clusters", 50), Evacuate: r.FormValue("evacuate"), Dark: &dark,
		Seed: uint64(atoi("seed", 1))}
	x, err := p.s.StartExercise(r.Context(), req, actor(r))
	if err != nil {
		if msg, ok := formError(err); ok {
			return p.renderExercises(w, r, http.StatusBadRequest, msg)
		}
		return err
	}
	return redirect(w, r, "/failover/exercises/"+x.ID)
}
