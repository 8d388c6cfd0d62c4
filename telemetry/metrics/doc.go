// Package metrics is Gaffer's metrics system, the "metrics" module: it
// owns the time-series store (telemetry/tsdb) at <data-dir>/tsdb and
// serves the ways in and out that Prometheus and Atlas users have —
// remote write, Atlas publish, the spectatord line protocol, file import,
// the Prometheus query API, the Metrics page and demo data.
//
// It implements the Atlas backend's service side for the Insight
// Engineering team's Spectator and Prometheus users (the seed system is
// Netflix Atlas) and measures itself against Prometheus on the same
// machine (bench/prom, docs/benchmarks.md): the same PromQL answers to
// 1e-9 relative, at least twice its remote-write ingest rate, at most half
// its memory per active series.
//
// Other systems use it through its leaf package metricsapi
// (metricsapi.From returns its Query, QueryRange, Append and DB); a
// *prom.Client offers the same Query and QueryRange over any
// Prometheus-compatible HTTP API. In `gaffer worker` the service holds no
// store: DB returns nil and the other methods return ErrNotOpen.
//
// Settings, routes, answers and limits are documented in docs/metrics.md.
package metrics
