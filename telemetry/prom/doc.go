// Package prom is the Prometheus side of Gaffer's metrics system: the
// remote-write 1.0 codec and receiver, a storage.Queryable over
// telemetry/tsdb so that the upstream PromQL engine
// (github.com/prometheus/prometheus/promql) runs on Gaffer's store, the
// Prometheus HTTP query API (/api/v1/query, /query_range, /series, /labels,
// /label/{name}/values) with Prometheus's exact response envelope, and a
// client for any Prometheus-compatible HTTP API.
//
// It implements the query half of the Atlas backend for Prometheus users
// (the seed system is Netflix Atlas) and measures itself against Prometheus
// itself: the same PromQL results to 1e-9 relative on the same data (see
// the comparison test), and at least Prometheus's remote-write throughput.
//
// The remote-write decoder is Gaffer's own (the upstream prompb types
// would pull in gogo/protobuf for three message types); it decodes
// WriteRequest, TimeSeries, Label and Sample, skips exemplars and
// metadata, and counts native histograms, which the store does not hold.
//
// Errors of the Prometheus-compatible query routes use Prometheus's shape,
// {"status":"error","errorType":...,"error":...}, so that Grafana and
// other Prometheus clients understand them; authentication failures still
// come from Gaffer's router in Gaffer's shape. The write route answers in
// Gaffer's shape (remote-write clients read only the status).
package prom
