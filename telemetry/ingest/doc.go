// Package ingest is how metrics other than Prometheus remote write reach
// Gaffer's store: Atlas's publish API (POST /api/v1/publish, Atlas's
// payload, validation rules and error responses), a spectatord-compatible
// daemon (the spectatord line protocol over UDP and a unix datagram
// socket, aggregated per meter type and published at a fixed step), and
// importers for OpenMetrics / Prometheus text and CSV files.
//
// It implements the ingest side of Netflix's Atlas and SpectatorD (the
// seed systems) and measures itself against spectatord: at least
// 1,000,000 lines/s batched over the unix socket, and no drops at 400,000
// lines/s over UDP loopback.
//
// Everything is written through prom.Store, so every path refuses and
// reports samples the same way.
package ingest
