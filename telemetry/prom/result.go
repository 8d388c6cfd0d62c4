package prom

import (
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

// Point is one value of a series at a millisecond timestamp.
type Point struct {
	T int64
	V float64
}

// Series is one series of a query result.
type Series struct {
	Labels tsdb.Labels
	Points []Point
}

// Result is a query result, whether it came from the embedded engine or a
// Prometheus HTTP API.
type Result struct {
	// Type is Prometheus's resultType: "matrix", "vector", "scalar" or
	// "string".
	Type string
	// Series holds the series; a vector has one point per series, a
	// scalar is one series without labels.
	Series []Series
	// String is the value of a string result.
	String string
	// Warnings and Infos are the engine's annotations.
	Warnings, Infos []string
}

// ResultFromValue converts a PromQL engine value.
func ResultFromValue(v parser.Value) Result {
	res := Result{Type: string(v.Type())}
	switch v := v.(type) {
	case promql.Matrix:
		res.Series = make([]Series, len(v))
		for i, s := range v {
			pts := make([]Point, len(s.Floats))
			for j, p := range s.Floats {
				pts[j] = Point{p.T, p.F}
			}
			res.Series[i] = Series{Labels: FromLabels(s.Metric), Points: pts}
		}
	case promql.Vector:
		res.Series = make([]Series, len(v))
		for i, s := range v {
			res.Series[i] = Series{Labels: FromLabels(s.Metric), Points: []Point{{s.T, s.F}}}
		}
	case promql.Scalar:
		res.Series = []Series{{Labels: tsdb.Labels{}, Points: []Point{{v.T, v.V}}}}
	case promql.String:
		res.String = v.V
	}
	return res
}
