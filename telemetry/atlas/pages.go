package atlas

import (
	"net/http"
	"net/url"

	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
	"github.com/gaffer-sre/gaffer/internal/platform/ui"
)

type pages struct {
	explorer, dashboard *ui.Page
}

type explorerData struct {
	Query, Start, End string
	Graphs            []SavedGraph
	Dashboards        []Dashboard
}

type dashboardData struct {
	Dashboard  Dashboard
	Start, End string
	Graphs     []dashGraph
}

type dashGraph struct {
	SavedGraph
	PNG, Explore string
}

// Pages registers the explorer and dashboards.
func (s *Service) Pages(sh *ui.Shell) {
	s.pages = &pages{
		explorer:  sh.Parse(templates, "templates/explorer.html"),
		dashboard: sh.Parse(templates, "templates/dashboard.html"),
	}
	sh.Nav(ui.NavItem{Title: "Atlas", Path: "/atlas", Scope: ReadScope, Order: 110})
	sh.Handle(httpapi.Route{Method: "GET", Path: "/atlas/static/", Public: true, Summary: "Atlas explorer assets",
		Handler: ui.Assets("/atlas/static/", sub(assets, "assets"))})
	sh.Handle(httpapi.Route{Method: "GET", Path: "/atlas", Scope: ReadScope, Summary: "Atlas metrics explorer", Handler: s.pageExplorer})
	sh.Handle(httpapi.Route{Method: "GET", Path: "/atlas/dashboards/{id}", Scope: ReadScope, Summary: "Atlas dashboard", Handler: s.pageDashboard})
}

// pageExplorer renders the metrics explorer (GET /atlas).
func (s *Service) pageExplorer(w http.ResponseWriter, r *http.Request) error {
	v := r.URL.Query()
	d := explorerData{Query: v.Get("q"), Start: v.Get("s"), End: v.Get("e")}
	if d.Start == "" {
		d.Start = "e-3h"
	}
	if d.End == "" {
		d.End = "now"
	}
	var err error
	if d.Graphs, err = s.listGraphs(r.Context()); err != nil {
		return err
	}
	if d.Dashboards, err = s.listDashboards(r.Context()); err != nil {
		return err
	}
	return s.pages.explorer.Render(w, r, http.StatusOK, "Atlas explorer", d)
}

// pageDashboard renders a dashboard with its graphs (GET /atlas/dashboards/{id}).
func (s *Service) pageDashboard(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	d, err := s.getDashboard(r.Context(), id)
	if err != nil {
		return err
	}
	start, end := r.URL.Query().Get("s"), r.URL.Query().Get("e")
	if start == "" {
		start = d.Start
	}
	if end == "" {
		end = d.End
	}
	data := dashboardData{Dashboard: d, Start: start, End: end}
	for _, g := range d.Graphs {
		v, _ := url.ParseQuery(g.Params)
		v.Set("q", g.Query)
		v.Set("s", start)
		v.Set("e", end)
		v.Set("w", "600")
		v.Set("h", "200")
		ex := url.Values{"q": {g.Query}, "s": {start}, "e": {end}}
		data.Graphs = append(data.Graphs, dashGraph{SavedGraph: g, PNG: "/api/v1/graph?" + v.Encode(), Explore: "/atlas?" + ex.Encode()})
	}
	return s.pages.dashboard.Render(w, r, http.StatusOK, d.Name, data)
}
