// Package tsdb is Gaffer's dimensional time-series storage engine: the
// backend that Spectator clients, Atlas publishers and Prometheus remote
// write feed, and that alerting and analysis query.
//
// For its user it stores series — a metric name (the __name__ label; Atlas's
// "name" tag) plus string tags — as (millisecond timestamp, float64) samples,
// and answers label-matcher queries over them fast, over days of raw data
// and years of downsampled data, on one machine.
//
// It implements the storage half of Netflix's Atlas backend (the seed
// system; Atlas keeps recent data in memory, Gaffer also persists it) and
// measures itself against Prometheus's TSDB, VictoriaMetrics and Atlas:
// ingest at least twice Prometheus's rate, at most half its memory per
// active series, and at most one byte per sample on disk.
//
// An Appender batches samples into a write-ahead log and an in-memory head;
// the head becomes immutable blocks with rollups by tier; DB.Querier and
// DB.Consolidate read them. The design, the on-disk format, the fsync
// policy, out-of-order handling, rollups and limits are in docs/tsdb.md.
package tsdb
