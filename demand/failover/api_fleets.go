package failover

import (
	"errors"
	"net/http"
	"time"

	"github.com/gaffer-sre/gaffer/demand/failover/fleet"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
)

// PutFleetResult answers PUT /fleets/{name}.
type PutFleetResult struct {
	FleetInfo
	Changed bool `json:"changed"`
}

// ValidateResult answers POST /fleets/validate.
type ValidateResult struct {
	Valid    bool            `json:"valid"`
	Problems []fleet.Problem `json:"problems,omitempty"`
}

// ClusterPatch changes some fields of a cluster; absent fields stay.
type ClusterPatch struct {
	CapacityPerInstance *float64        `json:"capacity_per_instance,omitempty"`
	Size                *int            `json:"size,omitempty"`
	Min                 *int            `json:"min,omitempty"`
	Max                 *int            `json:"max,omitempty"`
	Dark                *int            `json:"dark,omitempty"`
	Startup             *fleet.Duration `json:"startup,omitempty"`
}

// GeographyPatch changes some fields of a geography; absent fields stay.
type GeographyPatch struct {
	Demand     *float64           `json:"demand,omitempty"`
	Steering   map[string]float64 `json:"steering,omitempty"`
	Preference []string           `json:"preference,omitempty"`
}

// DetectRequest asks for a health check of a fleet's regions.
type DetectRequest struct {
	// At is when to check (default now).
	At time.Time `json:"at,omitzero"`
	// Record stores and publishes recommendations.
	Record bool `json:"record,omitempty"`
}

func (s *Service) fleetRoutes(r *httpapi.Router) {
	r.Handle(httpapi.Route{Method: "GET", Path: api + "/fleets", Scope: ReadScope, Summary: "Fleets (models), by name",
		Query: []httpapi.Param{{Name: "kind", Description: "fleet (default), exercise, or all"}}, Response: httpapi.Page[FleetInfo]{},
		Handler: s.apiListFleets})
	r.Handle(httpapi.Route{Method: "POST", Path: api + "/fleets/validate", Scope: ReadScope, Unaudited: true, Action: "failover.fleet.validate",
		Summary: "Check a fleet document (YAML or JSON) without storing it", Response: ValidateResult{},
		Handler: s.apiValidateFleet})
	r.Handle(httpapi.Route{Method: "GET", Path: api + "/fleets/{name}", Scope: ReadScope, Summary: "A fleet; ?format=yaml for its YAML",
		Query: []httpapi.Param{{Name: "format", Description: "json (default) or yaml"}}, Response: StoredFleet{}, Handler: s.apiGetFleet})
	r.Handle(httpapi.Route{Method: "PUT", Path: api + "/fleets/{name}", Scope: WriteScope, Action: "failover.fleet.put",
		Summary: "Create or replace a fleet from YAML or JSON; invalid fields are named with their line",
		Query:   []httpapi.Param{{Name: "version", Description: "refuse unless the fleet is at this version"}},
		Request: fleet.Fleet{}, Response: PutFleetResult{}, Handler: s.apiPutFleet})
	r.Handle(httpapi.Route{Method: "DELETE", Path: api + "/fleets/{name}", Scope: WriteScope, Action: "failover.fleet.delete",
		Summary: "Delete a fleet (plans and executions keep their versions)",
		Handler: s.apiDeleteFleet})
	r.Handle(httpapi.Route{Method: "PUT", Path: api + "/fleets/{name}/clusters/{cluster}", Scope: WriteScope,
		Action: "failover.cluster.update", Summary: "Change a cluster's capacity, size, bounds, dark pool or start-up time",
		Request: ClusterPatch{}, Response: PutFleetResult{}, Handler: s.apiPatchCluster})
	r.Handle(httpapi.Route{Method: "PUT", Path: api + "/fleets/{name}/geographies/{geo}", Scope: WriteScope,
		Action: "failover.geography.update", Summary: "Change a geography's demand, steering weights or region preference",
		Request: GeographyPatch{}, Response: PutFleetResult{}, Handler: s.apiPatchGeography})
	r.Handle(httpapi.Route{Method: "GET", Path: api + "/fleets/{name}/status", Scope: ReadScope,
		Summary: "Each region's demand, share and capacity now", Response: FleetStatus{},
		Handler: s.apiFleetStatus})
	r.Handle(httpapi.Route{Method: "POST", Path: api + "/fleets/{name}/darkpools", Scope: WriteScope, Action: "failover.darkpools.size",
		Summary: "Size the fleet's dark pools from the forecast now", Response: DarkPoolResult{},
		Handler: s.apiSizeDarkPools})
	r.Handle(httpapi.Route{Method: "POST", Path: api + "/fleets/{name}/detect", Scope: WriteScope, Action: "failover.fleet.detect",
		Summary: "Check the fleet's regions for a drop in demand; with record, recommendations are stored and published",
		Request: DetectRequest{}, Response: []Evidence{}, Handler: s.apiDetect})
}

// apiListFleets lists the stored fleets of one kind (GET /fleets).
func (s *Service) apiListFleets(w http.ResponseWriter, r *http.Request) error {
	kind := r.URL.Query().Get("kind")
	switch kind {
	case "":
		kind = KindFleet
	case "all":
		kind = ""
	}
	fs, err := s.Fleets(r.Context(), kind)
	if err != nil {
		return err
	}
	return httpapi.WriteJSON(w, http.StatusOK, httpapi.Page[FleetInfo]{Items: fs})
}

// apiValidateFleet checks a fleet document without storing it (POST /fleets/validate).
func (s *Service) apiValidateFleet(w http.ResponseWriter, r *http.Request) error {
	f, err := readFleet(r)
	if err == nil {
		err = s.checkSecretEnv(f)
	}
	if fe, ok := errors.AsType[*fleet.Error](err); ok {
		return httpapi.WriteJSON(w, http.StatusOK, ValidateResult{Problems: fe.Problems})
	}
	if err != nil {
		return err
	}
	return httpapi.WriteJSON(w, http.StatusOK, ValidateResult{Valid: true})
}

// apiGetFleet answers a fleet as JSON or, with ?format=yaml, YAML (GET /fleets/{name}).
func (s *Service) apiGetFleet(w http.ResponseWriter, r *http.Request) error {
	sf, err := s.Fleet(r.Context(), r.PathValue("name"))
	if err != nil {
		return apiError(err)
	}
	switch r.URL.Query().Get("format") {
	case "", "json":
		return httpapi.WriteJSON(w, http.StatusOK, sf)
	case "yaml":
		b, err := sf.Spec.YAML()
		if err != nil {
			return err
		}
		w.Header().Set("Content-Type", "application/yaml")
		_, err = w.Write(b)
		return err
	}
	return httpapi.BadRequest("format: want json or yaml, got %q", r.URL.Query().Get("format"))
}

// apiPutFleet creates or replaces a fleet (PUT /fleets/{name}).
func (s *Service) apiPutFleet(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	httpapi.SetAuditTarget(r, "fleet:"+name)
	f, err := readFleet(r)
	if err != nil {
		return apiError(err)
	}
	if f.Name != name {
		return httpapi.BadRequest("name: the document names fleet %q, the path %q", f.Name, name)
	}
	version, err := queryInt(r, "version")
	if err != nil {
		return err
	}
	fi, changed, err := s.PutFleet(r.Context(), f, KindFleet, actor(r), "put through the API", version)
	if err != nil {
		return apiError(err)
	}
	status := http.StatusOK
	if changed && fi.Version == 1 {
		status = http.StatusCreated
	}
	return httpapi.WriteJSON(w, status, PutFleetResult{FleetInfo: fi, Changed: changed})
}

// apiDeleteFleet deletes a fleet (DELETE /fleets/{name}).
func (s *Service) apiDeleteFleet(w http.ResponseWriter, r *http.Request) error {
	httpapi.SetAuditTarget(r, "fleet:"+r.PathValue("name"))
	if err := s.DeleteFleet(r.Context(), r.PathValue("name")); err != nil {
		return apiError(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// apiPatchCluster changes some fields of a cluster (PUT /fleets/{name}/clusters/{cluster}).
func (s *Service) apiPatchCluster(w http.ResponseWriter, r *http.Request) error {
	name, cluster := r.PathValue("name"), r.PathValue("cluster")
	httpapi.SetAuditTarget(r, "fleet:"+name+"/cluster:"+cluster)
	var p ClusterPatch
	if err := httpapi.DecodeJSON(r, &p); err != nil {
		return err
	}
	fi, changed, err := s.UpdateCluster(r.Context(), name, cluster, p, actor(r))
	if err != nil {
		return apiError(err)
	}
	return httpapi.WriteJSON(w, http.StatusOK, PutFleetResult{FleetInfo: fi, Changed: changed})
}

// apiPatchGeography changes some fields of a geography (PUT /fleets/{name}/geographies/{geo}).
func (s *Service) apiPatchGeography(w http.ResponseWriter, r *http.Request) error {
	name, geo := r.PathValue("name"), r.PathValue("geo")
	httpapi.SetAuditTarget(r, "fleet:"+name+"/geography:"+geo)
	var p GeographyPatch
	if err := httpapi.DecodeJSON(r, &p); err != nil {
		return err
	}
	fi, changed, err := s.UpdateGeography(r.Context(), name, geo, p, actor(r))
	if err != nil {
		return apiError(err)
	}
	return httpapi.WriteJSON(w, http.StatusOK, PutFleetResult{FleetInfo: fi, Changed: changed})
}

// apiFleetStatus answers each region's demand, share and capacity now (GET /fleets/{name}/status).
func (s *Service) apiFleetStatus(w http.ResponseWriter, r *http.Request) error {
	st, err := s.FleetStatus(r.Context(), r.PathValue("name"))
	if err != nil {
		return apiError(err)
	}
	return httpapi.WriteJSON(w, http.StatusOK, st)
}

// apiSizeDarkPools sizes a fleet's dark pools from the forecast (POST /fleets/{name}/darkpools).
func (s *Service) apiSizeDarkPools(w http.ResponseWriter, r *http.Request) error {
	httpapi.SetAuditTarget(r, "fleet:"+r.PathValue("name"))
	res, err := s.SizeDarkPools(r.Context(), r.PathValue("name"), actor(r))
	if err != nil {
		return apiError(err)
	}
	return httpapi.WriteJSON(w, http.StatusOK, res)
}

// apiDetect checks a fleet's regions for a drop in demand (POST /fleets/{name}/detect).
func (s *Service) apiDetect(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	httpapi.SetAuditTarget(r, "fleet:"+name)
	var req DetectRequest
	if r.ContentLength != 0 {
		if err := httpapi.DecodeJSON(r, &req); err != nil {
			return err
		}
	}
	if req.At.IsZero() {
		req.At = s.now()
	}
	ev, err := s.Detect(r.Context(), name, req.At, req.Record)
	if err != nil {
		return apiError(err)
	}
	return httpapi.WriteJSON(w, http.StatusOK, ev)
}
