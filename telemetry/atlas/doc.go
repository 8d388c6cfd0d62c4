// Package atlas is Gaffer's "atlas" system: Atlas's graph API (GET
// /api/v1/graph) and tag discovery (GET /api/v1/tags) over the metrics
// store, saved graphs and dashboards kept in the database, and the
// metrics explorer page.
//
// It implements the query side of Netflix Atlas, named in "Python at
// Netflix", and measures itself against Atlas's own documented results
// and Prometheus's query latency. The store belongs to the metrics
// system; this system finds it through metricsapi and only reads it.
//
// Libraries: stack (the stack language and its evaluation, the in-memory
// tier), graph (Atlas's graph parameters and output formats), chart (the
// PNG renderer). User guide: docs/atlas.md; figures: docs/benchmarks.md
// and bench/tsdb.
package atlas
