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
// # Design
//
//   - Appends go to an in-memory head through a write-ahead log (WAL). An
//     Appender batches samples; Commit writes one WAL record (plus records
//     for series new to the log) with one write(2), then appends to the
//     head. The series lookup is lock-striped and, for known series,
//     allocation-free.
//   - The head appends to bit-stream chunks (package internal/chunk):
//     delta-of-delta timestamps, decimal-aware delta-of-delta values with
//     Gorilla XOR as the fallback. Persisted blocks store each chunk as a
//     timestamp column and a value column (package internal/column:
//     decimals as integer mantissas, deltas or grid residuals, exact bits
//     for the rest) in zstd-compressed pages, identical columns once: about
//     one byte per sample on a busy mixed workload.
//   - Every Options.BlockDuration the head's oldest range becomes an
//     immutable block (index + chunks, checksummed), together with one
//     rollup block per configured tier holding sum, count, min, max and last
//     per window. Blocks are merged into larger ones and deleted by age and
//     by total size.
//   - The inverted index maps each label pair to a roaring bitmap of
//     series, in the head and in each block; matchers (=, !=, =~, !~ with
//     anchored regular expressions) become bitmap unions, intersections and
//     differences, with fast paths for literal sets and prefixes.
//   - Queries (DB.Querier) chain the head and blocks (merging only where
//     they overlap) and serve old ranges from rollups transparently;
//     DB.Consolidate reads per-step aggregates for Atlas without allocating
//     per sample.
//   - Samples older than the head are accepted up to BackfillWindow and
//     written as new blocks that compaction merges.
//
// The on-disk format, the fsync policy, out-of-order handling, rollups and
// limits are documented in docs/tsdb.md.
package tsdb
