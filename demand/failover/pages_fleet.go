package failover

import (
	"errors"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/gaffer-sre/gaffer/demand/failover/fleet"
)

type overviewData struct {
	format
	Fleets          []FleetInfo
	Status          []*FleetStatus
	Recommendations []Recommendation
	Executions      []*Execution
	Exercises       []*Exercise
	Error           string
	Problems        []fleet.Problem
	YAML            string
}

func (p *pages) overviewPage(w http.ResponseWriter, r *http.Request) error {
	return p.renderOverview(w, r, http.StatusOK, overviewData{})
}

func (p *pages) renderOverview(w http.ResponseWriter, r *http.Request, status int, d overviewData) error {
	ctx := r.Context()
	var err error
	if d.Fleets, err = p.s.Fleets(ctx, KindFleet); err != nil {
		return err
	}
	for _, fi := range d.Fleets {
		if st, err := p.s.FleetStatus(ctx, fi.Name); err == nil {
			d.Status = append(d.Status, st)
		}
	}
	if d.Recommendations, err = p.s.Recommendations(ctx, "", 10); err != nil {
		return err
	}
	if d.Executions, _, err = p.s.Executions(ctx, "", 0, 10); err != nil {
		return err
	}
	return p.overview.Render(w, r, status, "Failover", d)
}

type fleetData struct {
	format
	Fleet    *StoredFleet
	Status   *FleetStatus
	Clusters []clusterRow
	Shown    int
	Total    int
	Query    string
	YAML     string
	Error    string
	Plans    []PlanSummary
}

type clusterRow struct {
	fleet.Cluster
	Service string
	Unit    string
}

// maxRows bounds the clusters shown at once; a filter finds the others.
const maxRows = 300

func (p *pages) fleetPage(w http.ResponseWriter, r *http.Request) error {
	return p.renderFleet(w, r, http.StatusOK, "")
}

func (p *pages) renderFleet(w http.ResponseWriter, r *http.Request, status int, msg string) error {
	ctx := r.Context()
	sf, err := p.s.Fleet(ctx, r.PathValue("name"))
	if err != nil {
		return pageError(err)
	}
	d := fleetData{Fleet: sf, Query: r.URL.Query().Get("q"), Error: msg}
	if d.Status, err = p.s.FleetStatus(ctx, sf.Name); err != nil {
		return err
	}
	f := sf.Spec.Clone()
	f.Normalize()
	for _, s := range f.Services {
		for _, c := range s.Clusters {
			d.Total++
			if d.Query != "" && !strings.Contains(c.Name, d.Query) && !strings.Contains(c.Region, d.Query) {
				continue
			}
			if len(d.Clusters) < maxRows {
				d.Clusters = append(d.Clusters, clusterRow{Cluster: c, Service: s.Name, Unit: s.UnitOf()})
			}
			d.Shown++
		}
	}
	if y, err := sf.Spec.YAML(); err == nil && len(y) < 256<<10 {
		d.YAML = string(y)
	}
	if d.Plans, _, err = p.s.Plans(ctx, sf.Name, 0, 10); err != nil {
		return err
	}
	sort.Slice(d.Fleet.Spec.Geographies, func(i, j int) bool { return d.Fleet.Spec.Geographies[i].Name < d.Fleet.Spec.Geographies[j].Name })
	return p.fleet.Render(w, r, status, "Fleet "+sf.Name, d)
}

func (p *pages) importFleet(w http.ResponseWriter, r *http.Request) error {
	src := r.FormValue("yaml")
	f, err := fleet.Parse([]byte(src))
	if err == nil {
		_, _, err = p.s.PutFleet(r.Context(), f, KindFleet, actor(r), "imported in the UI", 0)
	}
	if err != nil {
		d := overviewData{YAML: src}
		if fe, ok := errors.AsType[*fleet.Error](err); ok {
			d.Problems = fe.Problems
		} else if msg, ok := formError(err); ok {
			d.Error = msg
		} else {
			return err
		}
		return p.renderOverview(w, r, http.StatusBadRequest, d)
	}
	return redirect(w, r, "/failover/fleets/"+f.Name)
}

func (p *pages) editCluster(w http.ResponseWriter, r *http.Request) error {
	var patch ClusterPatch
	ints := map[string]**int{"size": &patch.Size, "min": &patch.Min, "max": &patch.Max, "dark": &patch.Dark}
	for name, dst := range ints {
		if v := r.FormValue(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				return p.renderFleet(w, r, http.StatusBadRequest, name+": want a whole number, got "+strconv.Quote(v))
			}
			*dst = &n
		}
	}
	if v := r.FormValue("capacity_per_instance"); v != "" {
		c, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return p.renderFleet(w, r, http.StatusBadRequest, "capacity_per_instance: want a number, got "+strconv.Quote(v))
		}
		patch.CapacityPerInstance = &c
	}
	if v := r.FormValue("startup"); v != "" {
		d, err := fleet.ParseDuration(v)
		if err != nil {
			return p.renderFleet(w, r, http.StatusBadRequest, "startup: "+err.Error())
		}
		patch.Startup = &d
	}
	_, _, err := p.s.UpdateCluster(r.Context(), r.PathValue("name"), r.FormValue("cluster"), patch, actor(r))
	if err != nil {
		if msg, ok := formError(err); ok {
			return p.renderFleet(w, r, http.StatusBadRequest, msg)
		}
		return err
	}
	return redirect(w, r, "/failover/fleets/"+r.PathValue("name")+"?q="+r.FormValue("cluster"))
}

func (p *pages) createPlan(w http.ResponseWriter, r *http.Request) error {
	req := PlanRequest{Fleet: r.PathValue("name")}
	region := r.FormValue("region")
	pct := r.FormValue("percent")
	if pct == "" || pct == "100" {
		req.Evacuate = region
	} else {
		v, err := strconv.ParseFloat(pct, 64)
		if err != nil {
			return p.renderFleet(w, r, http.StatusBadRequest, "percent: want a number from 1 to 100")
		}
		req.From, req.Fraction = region, v/100
	}
	rec, err := p.s.CreatePlan(r.Context(), req, actor(r))
	if err != nil {
		if msg, ok := formError(err); ok {
			return p.renderFleet(w, r, http.StatusBadRequest, msg)
		}
		return err
	}
	return redirect(w, r, "/failover/plans/"+rec.ID)
}

func (p *pages) sizeDark(w http.ResponseWriter, r *http.Request) error {
	if _, err := p.s.SizeDarkPools(r.Context(), r.PathValue("name"), actor(r)); err != nil {
		if msg, ok := formError(err); ok {
			return p.renderFleet(w, r, http.StatusBadRequest, msg)
		}
		return err
	}
	return redirect(w, r, "/failover/fleets/"+r.PathValue("name"))
}
