// Package chunk encodes (timestamp, value) samples into compact chunks.
//
// The encoding extends Facebook's Gorilla scheme. Timestamps are stored as
// delta-of-deltas, so a series with a regular step costs one bit per sample.
// Values are first tried as decimals: a value v that equals m/10^k exactly
// (bit for bit, after float64 rounding) for a small scale k is stored as the
// delta-of-delta of the integer m, which makes counters with a constant
// increment, unchanged gauges and histogram buckets cost one bit per sample.
// Other values (random floats, NaN including Prometheus's stale marker, ±Inf,
// -0) fall back to Gorilla's XOR encoding and are reproduced bit-exactly.
//
// Layout: two bytes (big-endian) holding the sample count, then a bit stream.
// See docs/tsdb.md for the code tables.
package chunk
