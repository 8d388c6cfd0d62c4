// Package column encodes the samples of persisted blocks as columns: one
// array of timestamps and one of values per chunk, each written in a
// compact byte form that a general-purpose compressor (zstd, applied by
// the block writer to pages of many columns) finishes off.
//
// Integers (AppendInts) are stored raw, as deltas, as delta-of-deltas or
// against a regular grid, whichever the byte statistics say compresses
// best; the residuals are zigzag varints or, after subtracting their
// minimum, fixed-width byte planes. Timestamps are integers. Values
// (AppendFloats) that are exact short decimals — v == m / 10^k bit for bit,
// or m / (60·10^k) for Atlas-style per-minute rates — become integer
// mantissas at one shared scale; values that are not (NaN payloads such as
// Prometheus's stale marker, ±Inf, −0, full-precision floats) are kept as
// exceptions with their exact bits, or, when most values are like that,
// the whole column is stored as byte planes of each value XORed with the
// previous one. Every float comes back bit for bit.
//
// The formats are described in docs/tsdb.md.
package column
