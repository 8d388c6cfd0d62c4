package wal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"os"
	"path/filepath"
)

// maxRecord bounds a record's length; longer ones are treated as corrupt.
const maxRecord = 1 << 30

// ErrTorn reports a record that is incomplete or fails its checksum.
var ErrTorn = errors.New("torn or corrupt WAL record")

// DecodeFrame splits the first framed record from b. It returns the payload
// and the number of bytes consumed, or ErrTorn.
func DecodeFrame(b []byte) (payload []byte, n int, err error) {
	if len(b) < frameSize {
		return nil, 0, fmt.Errorf("%w: %d bytes left, less than a frame header", ErrTorn, len(b))
	}
	size := binary.LittleEndian.Uint32(b)
	sum := binary.LittleEndian.Uint32(b[4:])
	if size == 0 || size > maxRecord || uint64(size) > uint64(len(b)-frameSize) {
		return nil, 0, fmt.Errorf("%w: record length %d with %d bytes left", ErrTorn, size, len(b)-frameSize)
	}
	payload = b[frameSize : frameSize+int(size)]
	if crc32.Checksum(payload, castagnoli) != sum {
		return nil, 0, fmt.Errorf("%w: checksum mismatch in %d-byte record", ErrTorn, size)
	}
	return payload, frameSize + int(size), nil
}

// ReplayOptions control ReadDir.
type ReplayOptions struct {
	// Repair truncates a segment at its first bad record. Without it the bad
	// tail is skipped but left on disk (read-only opens).
	Repair bool
	// Logger receives one line per dropped tail.
	Logger *slog.Logger
}

// ReadSegment calls fn for every intact record of one segment file, in order.
// A bad record ends the segment: it and everything after it are dropped
// (truncated with opts.Repair) and the loss is logged. An error from fn stops
// the replay and is returned.
func ReadSegment(name string, opts ReplayOptions, fn func(rec []byte) error) error {
	b, err := os.ReadFile(name)
	if err != nil {
		return fmt.Errorf("read WAL segment: %w", err)
	}
	off, records := 0, 0
	for off < len(b) {
		payload, n, err := DecodeFrame(b[off:])
		if err != nil {
			logger := opts.Logger
			if logger == nil {
				logger = slog.Default()
			}
			logger.Warn("tsdb: dropped torn WAL tail",
				"segment", filepath.Base(name), "offset", off, "bytes_dropped", len(b)-off,
				"records_kept", records, "reason", err.Error(), "truncated", opts.Repair)
			if opts.Repair {
				if err := os.Truncate(name, int64(off)); err != nil {
					return fmt.Errorf("truncate torn WAL segment %s at %d: %w", name, off, err)
				}
			}
			return nil
		}
		if err := fn(payload); err != nil {
			return err
		}
		off += n
		records++
	}
	return nil
}

// ReadDir replays the newest checkpoint in dir, if any, then every segment
// after it. It returns the number of the last segment seen (or the
// checkpoint's number minus one).
func ReadDir(dir string, opts ReplayOptions, fn func(rec []byte) error) (last int, err error) {
	cp, first, err := LastCheckpoint(dir)
	if err != nil {
		return 0, err
	}
	last = first - 1
	if cp != "" {
		segs, err := ListSegments(cp)
		if err != nil {
			return 0, err
		}
		for _, s := range segs {
			if err := ReadSegment(SegmentName(cp, s), opts, fn); err != nil {
				return 0, fmt.Errorf("replay checkpoint %s: %w", cp, err)
			}
		}
	}
	segs, err := ListSegments(dir)
	if err != nil {
		return 0, err
	}
	for _, s := range segs {
		if s < first {
			continue
		}
		if err := ReadSegment(SegmentName(dir, s), opts, fn); err != nil {
			return 0, err
		}
		last = s
	}
	return last, nil
}
