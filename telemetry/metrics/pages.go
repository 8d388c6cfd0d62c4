package metrics

import (
	"embed"
	"encoding/json"
	"math"
	"net/http"
	"sort"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
	"github.com/gaffer-sre/gaffer/internal/platform/ui"
	"github.com/gaffer-sre/gaffer/telemetry/prom"
	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

//go:embed templates/*.html
var templates embed.FS

// The page's time ranges.
var pageRanges = []struct {
	Name string
	D    time.Duration
}{{"15m", 15 * time.Minute}, {"1h", time.Hour}, {"6h", 6 * time.Hour}, {"24h", 24 * time.Hour}, {"3d", 72 * time.Hour}, {"7d", 168 * time.Hour}}

// maxChartSeries bounds the series drawn (and so the legend); the table
// lists them all.
const maxChartSeries = 10

type pageData struct {
	Query   string
	Range   string
	Ranges  []string
	Error   string
	Chart   string
	Rows    []pageRow
	Shown   int
	Total   int
	Metrics []string
	Step    string
}

type pageRow struct {
	Labels string
	Last   string
}

// Pages adds the metrics page.
func (s *Service) Pages(sh *ui.Shell) {
	if s.db == nil {
		return
	}
	s.page = sh.Parse(templates, "templates/metrics.html")
	sh.Nav(ui.NavItem{Title: "Metrics", Path: "/metrics/explore", Scope: ReadScope, Order: 100})
	sh.Handle(httpapi.Route{Method: "GET", Path: "/metrics/explore", Scope: ReadScope, Summary: "Metrics page: PromQL and a chart",
		Handler: s.pageExplore})
}

// pageExplore renders the metrics page: a PromQL query, its chart and its
// series (GET /metrics/explore).
func (s *Service) pageExplore(w http.ResponseWriter, r *http.Request) error {
	return s.page.Render(w, r, http.StatusOK, "Metrics", s.pageData(r))
}

func (s *Service) pageData(r *http.Request) pageData {
	q := r.URL.Query()
	d := pageData{Query: q.Get("q"), Range: q.Get("range")}
	rng := time.Hour
	found := false
	for _, pr := range pageRanges {
		d.Ranges = append(d.Ranges, pr.Name)
		if pr.Name == d.Range {
			rng, found = pr.D, true
		}
	}
	if !found {
		d.Range = "1h"
	}
	end := s.now()
	if names, err := s.metricNames(end.Add(-rng), end); err == nil {
		d.Metrics = names
	}
	if d.Query == "" {
		return d
	}
	step := (rng / 300).Round(time.Second)
	if step < 15*time.Second {
		step = 15 * time.Second
	}
	d.Step = step.String()
	start := end.Add(-rng).Truncate(step)
	res, err := s.QueryRange(r.Context(), d.Query, start, end, step)
	if err != nil {
		d.Error = err.Error()
		return d
	}
	d.Total = len(res.Series)
	d.Chart, d.Shown = chartJSON(res, start, end, step)
	for _, ser := range res.Series {
		last := "—"
		if n := len(ser.Points); n > 0 {
			last = string(prom.AppendFloat(nil, ser.Points[n-1].V))
		}
		d.Rows = append(d.Rows, pageRow{Labels: ser.Labels.String(), Last: last})
	}
	return d
}

func (s *Service) metricNames(start, end time.Time) ([]string, error) {
	q, err := s.db.Querier(start.UnixMilli(), end.UnixMilli())
	if err != nil {
		return nil, err
	}
	defer q.Close()
	return q.LabelValues(tsdb.MetricName)
}

type chartSeries struct {
	Label  string     `json:"label"`
	Values []*float64 `json:"values"`
}

// chartJSON lays the series on the query's time grid for gaffer.chart.
func chartJSON(res prom.Result, start, end time.Time, step time.Duration) (string, int) {
	var times []int64
	for t := start; !t.After(end); t = t.Add(step) {
		times = append(times, t.Unix())
	}
	series := res.Series
	sort.SliceStable(series, func(i, j int) bool { return tsdb.Compare(series[i].Labels, series[j].Labels) < 0 })
	out := struct {
		Times  []int64       `json:"times"`
		Series []chartSeries `json:"series"`
	}{Times: times}
	for _, ser := range series {
		if len(out.Series) == maxChartSeries {
			break
		}
		cs := chartSeries{Label: ser.Labels.String(), Values: make([]*float64, len(times))}
		hasData := false
		for _, p := range ser.Points {
			i := int((p.T - start.UnixMilli()) / step.Milliseconds())
			if i >= 0 && i < len(times) && !math.IsNaN(p.V) && !math.IsInf(p.V, 0) {
				v := p.V
				cs.Values[i], hasData = &v, true
			}
		}
		if hasData {
			out.Series = append(out.Series, cs)
		}
	}
	b, _ := json.Marshal(out)
	return string(b), len(out.Series)
}
