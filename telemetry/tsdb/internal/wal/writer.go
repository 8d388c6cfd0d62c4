package wal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"sync"
)

// castagnoli is the CRC-32C table used for every record.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// frameSize is the length of a record's frame header.
const frameSize = 8

// DefaultSegmentSize is the size at which a segment is closed and the next begun.
const DefaultSegmentSize = 128 << 20

// Options configure a Writer.
type Options struct {
	// SegmentSize is the soft size limit of a segment; DefaultSegmentSize if 0.
	SegmentSize int64
	// SyncAlways fsyncs after every Log call, before it returns.
	SyncAlways bool
	// OpenFile creates segment files; os.OpenFile if nil.
	OpenFile func(name string) (File, error)
}

// Writer appends records to the segments of a directory. It is safe for
// concurrent use.
type Writer struct {
	dir  string
	opts Options

	mu     sync.Mutex
	f      File
	seg    int
	off    int64
	broken bool // the tail of f may hold a partial write
	buf    []byte
	closed bool
}

// NewWriter starts writing at a new segment numbered seg in dir.
func NewWriter(dir string, seg int, opts Options) (*Writer, error) {
	if opts.SegmentSize <= 0 {
		opts.SegmentSize = DefaultSegmentSize
	}
	if opts.OpenFile == nil {
		opts.OpenFile = createFile
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create WAL directory: %w", err)
	}
	w := &Writer{dir: dir, opts: opts}
	if err := w.open(seg); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *Writer) open(seg int) error {
	name := SegmentName(w.dir, seg)
	f, err := w.opts.OpenFile(name)
	if err != nil {
		return fmt.Errorf("create WAL segment %s: %w", name, err)
	}
	if err := f.Truncate(0); err != nil {
		f.Close()
		return fmt.Errorf("truncate WAL segment %s: %w", name, err)
	}
	if err := SyncDir(w.dir); err != nil {
		f.Close()
		return fmt.Errorf("sync WAL directory: %w", err)
	}
	w.f, w.seg, w.off, w.broken = f, seg, 0, false
	return nil
}

// Segment returns the number of the segment being written.
func (w *Writer) Segment() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.seg
}

// Log appends the records in one write. When it returns nil the records are
// in the operating system's page cache (and on disk with SyncAlways). When it
// fails, none of the records is in the log.
func (w *Writer) Log(recs ...[]byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return errors.New("WAL is closed")
	}
	w.buf = w.buf[:0]
	for _, r := range recs {
		w.buf = binary.LittleEndian.AppendUint32(w.buf, uint32(len(r)))
		w.buf = binary.LittleEndian.AppendUint32(w.buf, crc32.Checksum(r, castagnoli))
		w.buf = append(w.buf, r...)
	}
	if w.broken {
		if err := w.repairTail(); err != nil {
			return err
		}
	}
	if w.off > 0 && w.off+int64(len(w.buf)) > w.opts.SegmentSize {
		if err := w.cutLocked(); err != nil {
			return err
		}
	}
	if _, err := w.f.WriteAt(w.buf, w.off); err != nil {
		w.broken = true
		w.repairTail() // best effort; retried on the next write
		return fmt.Errorf("write WAL segment %d at offset %d: %w", w.seg, w.off, err)
	}
	if w.opts.SyncAlways {
		if err := w.f.Sync(); err != nil {
			w.broken = true
			w.repairTail()
			return fmt.Errorf("fsync WAL segment %d: %w", w.seg, err)
		}
	}
	w.off += int64(len(w.buf))
	if cap(w.buf) > 4<<20 {
		w.buf = nil
	}
	return nil
}

// repairTail removes a partial write after a failed Log.
func (w *Writer) repairTail() error {
	if err := w.f.Truncate(w.off); err != nil {
		return fmt.Errorf("remove partial write from WAL segment %d: %w", w.seg, err)
	}
	w.broken = false
	return nil
}

// Cut closes the current segment and starts the next. It returns the number
// of the new segment.
func (w *Writer) Cut() (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.cutLocked(); err != nil {
		return 0, err
	}
	return w.seg, nil
}

func (w *Writer) cutLocked() error {
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("fsync WAL segment %d: %w", w.seg, err)
	}
	if err := w.f.Close(); err != nil {
		return fmt.Errorf("close WAL segment %d: %w", w.seg, err)
	}
	return w.open(w.seg + 1)
}

// Sync flushes the current segment to stable storage.
func (w *Writer) Sync() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("fsync WAL segment %d: %w", w.seg, err)
	}
	return nil
}

// Close syncs and closes the current segment.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	err := w.f.Sync()
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("close WAL segment %d: %w", w.seg, err)
	}
	return nil
}
