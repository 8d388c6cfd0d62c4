// Package wal is the write-ahead log: numbered segment files of
// length-prefixed, CRC-checked records.
//
// A record is framed as a 4-byte little-endian payload length, the 4-byte
// CRC-32C (Castagnoli) of the payload, then the payload. Records never span
// segments. On replay, a record that is cut short or fails its checksum ends
// its segment: in repair mode the segment is truncated there and the loss is
// logged, then replay goes on with the next segment.
package wal
