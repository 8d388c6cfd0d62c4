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
// # Go API for other systems
//
// Alerting, analysis, failover and Atlas reach the service with
// deps.Lookup("metrics") and assert it to an interface of the methods
// they use:
//
//	Query(ctx, expr string, t time.Time) (prom.Result, error)
//	QueryRange(ctx, expr string, start, end time.Time, step time.Duration) (prom.Result, error)
//	Append(ctx, series []prom.TimeSeries) (prom.StoreResult, error)
//	DB() *tsdb.DB                      // the store, e.g. for Consolidate
//	Queryable() storage.Queryable      // for an engine of their own
//	Engine() *promql.Engine
//
// A *prom.Client has the same Query and QueryRange methods over any
// Prometheus-compatible HTTP API, so code written against those two works
// with the embedded store or a remote Prometheus, Mimir or
// VictoriaMetrics. In `gaffer worker` the service holds no store: DB
// returns nil and the other methods return ErrNotOpen.
//
// Settings, routes, answers and limits are documented in docs/metrics.md.
package metrics
