package alerting

import (
	"context"
	"net/url"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	promtemplate "github.com/prometheus/prometheus/template"

	"github.com/gaffer-sre/gaffer/telemetry/prom"
)

// templateDefs are the variables Prometheus defines for alert templates.
const templateDefs = "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}" +
	"{{$externalURL := .ExternalURL}}{{$value := .Value}}"

func promSample(v float64) promql.Sample { return promql.Sample{F: v} }

// expander expands alert templates as Prometheus's rules manager does.
type expander struct {
	// query answers the templates' query function; nil refuses it.
	query   PromQuerier
	baseURL *url.URL
}

// expand expands text for an alert with labels ls and value v at t. A
// template that fails expands to its error, as in Prometheus, so that a
// broken annotation never stops an alert.
func (e expander) expand(ctx context.Context, name, text string, ls map[string]string, v float64, t time.Time) string {
	base := ""
	if e.baseURL != nil {
		base = e.baseURL.String()
	}
	data := promtemplate.AlertTemplateData(ls, map[string]string{}, base, promSample(v))
	ex := promtemplate.NewTemplateExpander(ctx, templateDefs+text, name, data, model.TimeFromUnixNano(t.UnixNano()),
		e.queryFunc(), e.baseURL, nil)
	out, err := ex.Expand()
	if err != nil {
		return "<error expanding template: " + err.Error() + ">"
	}
	return out
}

func (e expander) queryFunc() promtemplate.QueryFunc {
	return func(ctx context.Context, q string, t time.Time) (promql.Vector, error) {
		if e.query == nil {
			return nil, errNoMetrics
		}
		res, err := e.query.Query(ctx, q, t)
		if err != nil {
			return nil, err
		}
		out := make(promql.Vector, 0, len(res.Series))
		for _, s := range res.Series {
			if len(s.Points) == 0 {
				continue
			}
			p := s.Points[len(s.Points)-1]
			out = append(out, promql.Sample{Metric: toPromLabels(s), T: p.T, F: p.V})
		}
		return out, nil
	}
}

func toPromLabels(s prom.Series) labels.Labels {
	b := labels.NewScratchBuilder(len(s.Labels))
	for _, l := range s.Labels {
		b.Add(l.Name, l.Value)
	}
	b.Sort()
	return b.Labels()
}
