package atlas

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/auth"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
	"github.com/gaffer-sre/gaffer/internal/platform/store"
	"github.com/gaffer-sre/gaffer/telemetry/atlas/stack"
)

// SavedGraph is a named expression with its graph parameters.
type SavedGraph struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Query string `json:"q"`
	// Params are the other graph parameters as a query string, e.g.
	// "s=e-1d&stack=1".
	Params    string    `json:"params"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

// Dashboard is an ordered list of saved graphs with a shared time range.
type Dashboard struct {
	ID        int64        `json:"id"`
	Name      string       `json:"name"`
	Start     string       `json:"s"`
	End       string       `json:"e"`
	GraphIDs  []int64      `json:"graph_ids"`
	Graphs    []SavedGraph `json:"graphs,omitempty"`
	CreatedBy string       `json:"created_by"`
	CreatedAt time.Time    `json:"created_at"`
}

// CreateGraphRequest is the body of POST /api/v1/atlas/graphs.
type CreateGraphRequest struct {
	Name   string `json:"name"`
	Query  string `json:"q"`
	Params string `json:"params"`
}

// CreateDashboardRequest is the body of POST /api/v1/atlas/dashboards.
type CreateDashboardRequest struct {
	Name     string  `json:"name"`
	Start    string  `json:"s"`
	End      string  `json:"e"`
	GraphIDs []int64 `json:"graph_ids"`
}

func (s *Service) savedRoutes(r *httpapi.Router) {
	r.Handle(httpapi.Route{Method: "GET", Path: "/api/v1/atlas/graphs", Scope: ReadScope, Summary: "List saved graphs",
		Response: []SavedGraph{}, Handler: s.apiListGraphs})
	r.Handle(httpapi.Route{Method: "POST", Path: "/api/v1/atlas/graphs", Scope: WriteScope, Summary: "Save a graph",
		Action: "atlas.graph.create", Request: CreateGraphRequest{}, Response: SavedGraph{},
		Handler: s.apiCreateGraph})
	r.Handle(httpapi.Route{Method: "GET", Path: "/api/v1/atlas/graphs/{id}", Scope: ReadScope, Summary: "Get a saved graph",
		Response: SavedGraph{}, Handler: s.apiGetGraph})
	r.Handle(httpapi.Route{Method: "DELETE", Path: "/api/v1/atlas/graphs/{id}", Scope: WriteScope, Summary: "Delete a saved graph",
		Action: "atlas.graph.delete", Handler: s.apiDeleteGraph})
	r.Handle(httpapi.Route{Method: "GET", Path: "/api/v1/atlas/dashboards", Scope: ReadScope, Summary: "List dashboards",
		Response: []Dashboard{}, Handler: s.apiListDashboards})
	r.Handle(httpapi.Route{Method: "POST", Path: "/api/v1/atlas/dashboards", Scope: WriteScope, Summary: "Create a dashboard",
		Action: "atlas.dashboard.create", Request: CreateDashboardRequest{}, Response: Dashboard{},
		Handler: s.apiCreateDashboard})
	r.Handle(httpapi.Route{Method: "GET", Path: "/api/v1/atlas/dashboards/{id}", Scope: ReadScope, Summary: "Get a dashboard with its graphs",
		Response: Dashboard{}, Handler: s.apiGetDashboard})
	r.Handle(httpapi.Route{Method: "DELETE", Path: "/api/v1/atlas/dashboards/{id}", Scope: WriteScope, Summary: "Delete a dashboard",
		Action: "atlas.dashboard.delete", Handler: s.apiDeleteDashboard})
}

// apiListGraphs lists the saved graphs (GET /api/v1/atlas/graphs).
func (s *Service) apiListGraphs(w http.ResponseWriter, r *http.Request) error {
	gs, err := s.listGraphs(r.Context())
	if err != nil {
		return err
	}
	return httpapi.WriteJSON(w, http.StatusOK, gs)
}

// apiCreateGraph saves a graph (POST /api/v1/atlas/graphs).
func (s *Service) apiCreateGraph(w http.ResponseWriter, r *http.Request) error {
	var req CreateGraphRequest
	if err := httpapi.DecodeJSON(r, &req); err != nil {
		return err
	}
	g, err := s.CreateGraph(r.Context(), req, auth.FromContext(r.Context()).Actor())
	if err != nil {
		return err
	}
	httpapi.SetAuditTarget(r, fmt.Sprintf("atlas.graph:%d", g.ID))
	return httpapi.WriteJSON(w, http.StatusCreated, g)
}

// apiGetGraph answers one saved graph (GET /api/v1/atlas/graphs/{id}).
func (s *Service) apiGetGraph(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	g, err := s.getGraph(r.Context(), id)
	if err != nil {
		return err
	}
	return httpapi.WriteJSON(w, http.StatusOK, g)
}

// apiDeleteGraph deletes a saved graph (DELETE /api/v1/atlas/graphs/{id}).
func (s *Service) apiDeleteGraph(w http.ResponseWriter, r *http.Request) error {
	return s.deleteRow(w, r, "atlas_graphs", "atlas.graph")
}

// apiListDashboards lists the dashboards (GET /api/v1/atlas/dashboards).
func (s *Service) apiListDashboards(w http.ResponseWriter, r *http.Request) error {
	ds, err := s.listDashboards(r.Context())
	if err != nil {
		return err
	}
	return httpapi.WriteJSON(w, http.StatusOK, ds)
}

// apiCreateDashboard creates a dashboard (POST /api/v1/atlas/dashboards).
func (s *Service) apiCreateDashboard(w http.ResponseWriter, r *http.Request) error {
	var req CreateDashboardRequest
	if err := httpapi.DecodeJSON(r, &req); err != nil {
		return err
	}
	d, err := s.CreateDashboard(r.Context(), req, auth.FromContext(r.Context()).Actor())
	if err != nil {
		return err
	}
	httpapi.SetAuditTarget(r, fmt.Sprintf("atlas.dashboard:%d", d.ID))
	return httpapi.WriteJSON(w, http.StatusCreated, d)
}

// apiGetDashboard answers a dashboard with its graphs (GET /api/v1/atlas/dashboards/{id}).
func (s *Service) apiGetDashboard(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	d, err := s.getDashboard(r.Context(), id)
	if err != nil {
		return err
	}
	return httpapi.WriteJSON(w, http.StatusOK, d)
}

// apiDeleteDashboard deletes a dashboard (DELETE /api/v1/atlas/dashboards/{id}).
func (s *Service) apiDeleteDashboard(w http.ResponseWriter, r *http.Request) error {
	return s.deleteRow(w, r, "atlas_dashboards", "atlas.dashboard")
}

func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, httpapi.NotFound("no such id %q", r.PathValue("id"))
	}
	return id, nil
}

// CreateGraph validates and stores a graph: the expression must parse.
func (s *Service) CreateGraph(ctx context.Context, req CreateGraphRequest, actor string) (SavedGraph, error) {
	req.Name = strings.TrimSpace(req.Name)
	if req.Name == "" || len(req.Name) > 200 {
		return SavedGraph{}, httpapi.BadRequest("name: want 1 to 200 characters")
	}
	if _, err := stack.Parse(req.Query, nil); err != nil {
		return SavedGraph{}, httpapi.BadRequest("q: %v", err)
	}
	v, err := url.ParseQuery(req.Params)
	if err != nil {
		return SavedGraph{}, httpapi.BadRequest("params: %v", err)
	}
	v.Del("q")
	g := SavedGraph{Name: req.Name, Query: req.Query, Params: v.Encode(), CreatedBy: actor, CreatedAt: s.deps.Clock()().UTC().Truncate(time.Millisecond)}
	err = s.st.QueryRowContext(ctx, "INSERT INTO atlas_graphs (name, query, params, created_by, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
		g.Name, g.Query, g.Params, g.CreatedBy, g.CreatedAt.UnixMilli()).Scan(&g.ID)
	if store.IsUniqueViolation(err) {
		return SavedGraph{}, httpapi.Conflict("a graph named %q exists", g.Name)
	}
	if err != nil {
		return SavedGraph{}, fmt.Errorf("save graph %q: %w", g.Name, err)
	}
	return g, nil
}

func scanGraph(sc interface{ Scan(...any) error }) (SavedGraph, error) {
	var g SavedGraph
	var at int64
	err := sc.Scan(&g.ID, &g.Name, &g.Query, &g.Params, &g.CreatedBy, &at)
	g.CreatedAt = time.UnixMilli(at).UTC()
	return g, err
}

const graphCols = "id, name, query, params, created_by, created_at"

func (s *Service) listGraphs(ctx context.Context) ([]SavedGraph, error) {
	rows, err := s.st.QueryContext(ctx, "SELECT "+graphCols+" FROM atlas_graphs ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("list saved graphs: %w", err)
	}
	defer rows.Close()
	out := []SavedGraph{}
	for rows.Next() {
		g, err := scanGraph(rows)
		if err != nil {
			return nil, fmt.Errorf("list saved graphs: %w", err)
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

func (s *Service) getGraph(ctx context.Context, id int64) (SavedGraph, error) {
	g, err := scanGraph(s.st.QueryRowContext(ctx, "SELECT "+graphCols+" FROM atlas_graphs WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return g, httpapi.NotFound("no saved graph %d", id)
	}
	return g, err
}

// CreateDashboard stores a dashboard of existing graphs.
func (s *Service) CreateDashboard(ctx context.Context, req CreateDashboardRequest, actor string) (Dashboard, error) {
	req.Name = strings.TrimSpace(req.Name)
	if req.Name == "" || len(req.Name) > 200 {
		return Dashboard{}, httpapi.BadRequest("name: want 1 to 200 characters")
	}
	if req.Start == "" {
		req.Start = "e-3h"
	}
	if req.End == "" {
		req.End = "now"
	}
	if _, _, err := stack.ParseTimeRange(req.Start, req.End, time.UTC, s.deps.Clock()()); err != nil {
		return Dashboard{}, httpapi.BadRequest("time range: %v", err)
	}
	d := Dashboard{Name: req.Name, Start: req.Start, End: req.End, GraphIDs: req.GraphIDs, CreatedBy: actor,
		CreatedAt: s.deps.Clock()().UTC().Truncate(time.Millisecond)}
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		err := tx.QueryRowContext(ctx, "INSERT INTO atlas_dashboards (name, range_start, range_end, created_by, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
			d.Name, d.Start, d.End, d.CreatedBy, d.CreatedAt.UnixMilli()).Scan(&d.ID)
		if err != nil {
			return err
		}
		for i, gid := range req.GraphIDs {
			var n int
			if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM atlas_graphs WHERE id = ?", gid).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return httpapi.BadRequest("graph_ids: no saved graph %d", gid)
			}
			if _, err := tx.ExecContext(ctx, "INSERT INTO atlas_dashboard_graphs (dashboard_id, position, graph_id) VALUES (?, ?, ?)", d.ID, i, gid); err != nil {
				return err
			}
		}
		return nil
	})
	if store.IsUniqueViolation(err) {
		return Dashboard{}, httpapi.Conflict("a dashboard named %q exists", d.Name)
	}
	var he *httpapi.Error
	if errors.As(err, &he) {
		return Dashboard{}, he
	}
	if err != nil {
		return Dashboard{}, fmt.Errorf("save dashboard %q: %w", d.Name, err)
	}
	return d, nil
}

func (s *Service) listDashboards(ctx context.Context) ([]Dashboard, error) {
	rows, err := s.st.QueryContext(ctx, "SELECT id, name, range_start, range_end, created_by, created_at FROM atlas_dashboards ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("list dashboards: %w", err)
	}
	defer rows.Close()
	out := []Dashboard{}
	for rows.Next() {
		var d Dashboard
		var at int64
		if err := rows.Scan(&d.ID, &d.Name, &d.Start, &d.End, &d.CreatedBy, &at); err != nil {
			return nil, fmt.Errorf("list dashboards: %w", err)
		}
		d.CreatedAt = time.UnixMilli(at).UTC()
		out = append(out, d)
	}
	return out, rows.Err()
}

func (s *Service) getDashboard(ctx context.Context, id int64) (Dashboard, error) {
	var d Dashboard
	var at int64
	err := s.st.QueryRowContext(ctx, "SELECT id, name, range_start, range_end, created_by, created_at FROM atlas_dashboards WHERE id = ?", id).
		Scan(&d.ID, &d.Name, &d.Start, &d.End, &d.CreatedBy, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return d, httpapi.NotFound("no dashboard %d", id)
	}
	if err != nil {
		return d, fmt.Errorf("get dashboard %d: %w", id, err)
	}
	d.CreatedAt = time.UnixMilli(at).UTC()
	rows, err := s.st.QueryContext(ctx, "SELECT g.id, g.name, g.query, g.params, g.created_by, g.created_at FROM atlas_dashboard_graphs dg "+
		"JOIN atlas_graphs g ON g.id = dg.graph_id WHERE dg.dashboard_id = ? ORDER BY dg.position", id)
	if err != nil {
		return d, fmt.Errorf("get dashboard %d: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		g, err := scanGraph(rows)
		if err != nil {
			return d, err
		}
		d.Graphs = append(d.Graphs, g)
		d.GraphIDs = append(d.GraphIDs, g.ID)
	}
	return d, rows.Err()
}

func (s *Service) deleteRow(w http.ResponseWriter, r *http.Request, table, kind string) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	httpapi.SetAuditTarget(r, fmt.Sprintf("%s:%d", kind, id))
	// Dashboards lose the graph too; not left to ON DELETE CASCADE, which
	// SQLite applies only with foreign keys on.
	child := "DELETE FROM atlas_dashboard_graphs WHERE graph_id = ?"
	if table == "atlas_dashboards" {
		child = "DELETE FROM atlas_dashboard_graphs WHERE dashboard_id = ?"
	}
	var n int64
	err = s.st.InTx(r.Context(), func(tx *store.Tx) error {
		if _, err := tx.ExecContext(r.Context(), child, id); err != nil {
			return err
		}
		res, err := tx.ExecContext(r.Context(), "DELETE FROM "+table+" WHERE id = ?", id)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return fmt.Errorf("delete %s %d: %w", kind, id, err)
	}
	if n == 0 {
		return httpapi.NotFound("no %s %d", kind, id)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
