package remotewrite

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/gaffer-sre/gaffer/telemetry/prom"
)

// Queue is a remote-write queue on disk: a log of segment files that
// Append writes before the samples are acknowledged to whoever sent them,
// and that a Sender reads (Next) and trims (Ack) as the receiver
// acknowledges. It survives restarts: the acknowledged position is kept in
// a file beside the segments. Beyond maxBytes the oldest segment is
// dropped, sent or not, and the samples not yet handed to the sender are
// counted (QueueStats.Dropped) and logged at WARN.
//
// Records are written with write(2), not fsynced: they survive a crash of
// the process, as the store's WAL does under --tsdb-wal-sync=write.
type Queue struct {
	dir      string
	maxBytes int64
	segBytes int64
	log      *slog.Logger

	mu      sync.Mutex
	segs    []segment // oldest first; the last is being written
	file    *os.File  // the last segment, open for appending
	total   int64     // bytes of all segments
	acked   position  // everything before it was acknowledged
	read    position  // everything before it was handed to the sender
	pending int64     // samples appended, neither acknowledged nor dropped
	dropped int64
	wake    chan struct{} // closed when something is appended
	closed  bool
}

// recordBufs holds the buffers records are encoded into.
var recordBufs = sync.Pool{New: func() any { return new([]byte) }}

type segment struct {
	id   uint64
	size int64
}

// position is a place in the log: a segment and a byte offset in it.
type position struct {
	seg uint64
	off int64
}

func (p position) before(o position) bool {
	return p.seg < o.seg || p.seg == o.seg && p.off < o.off
}

// QueueStats describe a queue.
type QueueStats struct {
	// Pending counts samples waiting for the receiver's acknowledgement.
	Pending int64
	// Dropped counts samples dropped unsent since the queue was opened,
	// because the queue was over its size bound or a record was damaged.
	Dropped int64
	// Bytes is the size of the segment files.
	Bytes int64
}

const ackFile = "acked"

// OpenQueue opens (creating it if need be) the queue in dir, bounded by
// maxBytes (at least 1 MiB). A record cut short by a crash at the end of
// the last segment is truncated away.
func OpenQueue(dir string, maxBytes int64, log *slog.Logger) (*Queue, error) {
	if maxBytes < 1<<20 {
		return nil, fmt.Errorf("remote-write queue: size bound %d bytes is below 1 MiB", maxBytes)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("remote-write queue: %w", err)
	}
	q := &Queue{dir: dir, maxBytes: maxBytes, segBytes: min(64<<20, maxBytes/8), log: log, wake: make(chan struct{})}
	if err := q.load(); err != nil {
		return nil, err
	}
	return q, nil
}

func (q *Queue) segPath(id uint64) string {
	return filepath.Join(q.dir, fmt.Sprintf("%016d.seg", id))
}

// load lists the segments, reads the acknowledged position and counts
// what is pending.
func (q *Queue) load() error {
	ents, err := os.ReadDir(q.dir)
	if err != nil {
		return fmt.Errorf("remote-write queue: %w", err)
	}
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".seg")
		if !ok {
			continue
		}
		id, err := strconv.ParseUint(name, 10, 64)
		if err != nil {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			return fmt.Errorf("remote-write queue: %w", err)
		}
		q.segs = append(q.segs, segment{id: id, size: fi.Size()})
	}
	sort.Slice(q.segs, func(i, j int) bool { return q.segs[i].id < q.segs[j].id })
	if q.acked, err = readAcked(filepath.Join(q.dir, ackFile)); err != nil {
		return err
	}
	// Segments wholly acknowledged are gone, unless a crash came between
	// writing the position and removing them.
	for len(q.segs) > 0 && q.segs[0].id < q.acked.seg {
		os.Remove(q.segPath(q.segs[0].id))
		q.segs = q.segs[1:]
	}
	if len(q.segs) == 0 {
		q.segs = []segment{{id: max(q.acked.seg, 1)}}
	}
	if q.acked.seg < q.segs[0].id {
		q.acked = position{seg: q.segs[0].id}
	}
	last := &q.segs[len(q.segs)-1]
	valid, err := q.validEnd(last.id)
	if err != nil {
		return err
	}
	if valid < last.size {
		q.log.Warn("remote-write queue: truncating a record cut short at the end of the last segment",
			"segment", q.segPath(last.id), "bytes", last.size-valid)
	}
	if q.file, err = os.OpenFile(q.segPath(last.id), os.O_CREATE|os.O_WRONLY, 0o600); err != nil {
		return fmt.Errorf("remote-write queue: %w", err)
	}
	if err := q.file.Truncate(valid); err != nil {
		return fmt.Errorf("remote-write queue: %w", err)
	}
	if _, err := q.file.Seek(valid, io.SeekStart); err != nil {
		return fmt.Errorf("remote-write queue: %w", err)
	}
	last.size = valid
	if q.acked.seg == last.id && q.acked.off > valid {
		q.acked.off = valid
	}
	for _, s := range q.segs {
		q.total += s.size
		from := int64(0)
		if s.id == q.acked.seg {
			from = q.acked.off
		}
		if s.id >= q.acked.seg {
			n, _ := q.countFrom(s.id, from)
			q.pending += n
		}
	}
	q.read = q.acked
	return nil
}

func readAcked(path string) (position, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return position{}, nil
	}
	if err != nil {
		return position{}, fmt.Errorf("remote-write queue: %w", err)
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return position{}, fmt.Errorf("remote-write queue: %s: want \"segment offset\", got %q", path, b)
	}
	seg, err1 := strconv.ParseUint(f[0], 10, 64)
	off, err2 := strconv.ParseInt(f[1], 10, 64)
	if err1 != nil || err2 != nil || off < 0 {
		return position{}, fmt.Errorf("remote-write queue: %s: want \"segment offset\", got %q", path, b)
	}
	return position{seg: seg, off: off}, nil
}

func (q *Queue) writeAcked() error {
	path := filepath.Join(q.dir, ackFile)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, fmt.Appendf(nil, "%d %d\n", q.acked.seg, q.acked.off), 0o600); err != nil {
		return fmt.Errorf("remote-write queue: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("remote-write queue: %w", err)
	}
	return nil
}

// validEnd returns the offset after the last whole, undamaged record of
// segment id.
func (q *Queue) validEnd(id uint64) (int64, error) {
	f, err := os.Open(q.segPath(id))
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("remote-write queue: %w", err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	var off int64
	hbuf := make([]byte, headerSize)
	for {
		h, _, err := readRecord(r, hbuf)
		if err != nil {
			return off, nil
		}
		off += headerSize + int64(h.size)
	}
}

// countFrom sums the sample counts of segment id's records from off,
// reading only their headers.
func (q *Queue) countFrom(id uint64, off int64) (int64, error) {
	f, err := os.Open(q.segPath(id))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return 0, err
	}
	r := bufio.NewReaderSize(f, 64<<10)
	hbuf := make([]byte, headerSize)
	var n int64
	for {
		if _, err := io.ReadFull(r, hbuf); err != nil {
			return n, nil
		}
		h, err := parseHeader(hbuf)
		if err != nil {
			return n, err
		}
		n += int64(h.samples)
		if _, err := r.Discard(int(h.size)); err != nil {
			return n, nil
		}
	}
}

// Append writes series to the log. It returns once the record is written,
// before any of it is sent.
func (q *Queue) Append(series []prom.TimeSeries) error {
	n := countSamples(series)
	if n == 0 {
		return nil
	}
	// Encoding and compressing, most of the cost, happen before the lock
	// so that concurrent writers do them in parallel.
	bp := recordBufs.Get().(*[]byte)
	rec := appendRecord((*bp)[:0], series, n)
	defer func() {
		if cap(rec) <= 4<<20 {
			*bp = rec[:0]
			recordBufs.Put(bp)
		}
	}()
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return errors.New("remote-write queue: closed")
	}
	if err := q.rollIfFull(int64(len(rec))); err != nil {
		return err
	}
	if _, err := q.file.Write(rec); err != nil {
		// A short write leaves a torn record: cut it off so that the
		// segment stays readable.
		last := &q.segs[len(q.segs)-1]
		q.file.Truncate(last.size)
		q.file.Seek(last.size, io.SeekStart)
		return fmt.Errorf("remote-write queue: write: %w", err)
	}
	q.segs[len(q.segs)-1].size += int64(len(rec))
	q.total += int64(len(rec))
	q.pending += int64(n)
	close(q.wake)
	q.wake = make(chan struct{})
	q.enforceBound()
	return nil
}

// rollIfFull starts a new segment when the record of size n would take
// the current one past the segment size.
func (q *Queue) rollIfFull(n int64) error {
	last := q.segs[len(q.segs)-1]
	if last.size == 0 || last.size+n <= q.segBytes {
		return nil
	}
	f, err := os.OpenFile(q.segPath(last.id+1), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("remote-write queue: new segment: %w", err)
	}
	q.file.Close()
	q.file = f
	q.segs = append(q.segs, segment{id: last.id + 1})
	return nil
}

// enforceBound drops the oldest segments while the log is over its bound.
func (q *Queue) enforceBound() {
	for q.total > q.maxBytes && len(q.segs) > 1 {
		old := q.segs[0]
		next := position{seg: q.segs[1].id}
		var lost int64
		if q.read.seg == old.id {
			lost, _ = q.countFrom(old.id, q.read.off)
			q.read = next
		}
		if q.acked.seg == old.id {
			q.acked = next
			if err := q.writeAcked(); err != nil {
				q.log.Error("remote-write queue: cannot record the acknowledged position", "error", err)
			}
		}
		os.Remove(q.segPath(old.id))
		q.segs = q.segs[1:]
		q.total -= old.size
		q.pending -= lost
		q.dropped += lost
		if lost > 0 {
			q.log.Warn("remote-write queue over its size bound: dropped the oldest unsent samples",
				"dir", q.dir, "samples", lost, "max_bytes", q.maxBytes, "dropped_total", q.dropped)
		}
	}
}

// Batch is samples read from the queue for one send.
type Batch struct {
	Series  []prom.TimeSeries
	Samples int
	from    position
	end     position
}

// Next returns the oldest samples not yet handed out, at least one record
// and, past the first, records up to maxSamples in all. It waits for
// something to be appended, or for ctx.
func (q *Queue) Next(ctx context.Context, maxSamples int) (Batch, error) {
	for {
		q.mu.Lock()
		if q.closed {
			q.mu.Unlock()
			return Batch{}, errors.New("remote-write queue: closed")
		}
		from := q.read
		segEnd, segIdx := int64(-1), -1
		for i, s := range q.segs {
			if s.id == from.seg {
				segEnd, segIdx = s.size, i
			}
		}
		if segIdx >= 0 && from.off >= segEnd && segIdx < len(q.segs)-1 {
			// This segment is read to its end: go on to the next.
			q.read = position{seg: q.segs[segIdx+1].id}
			q.mu.Unlock()
			continue
		}
		if segIdx < 0 || from.off >= segEnd {
			wake := q.wake
			q.mu.Unlock()
			select {
			case <-ctx.Done():
				return Batch{}, ctx.Err()
			case <-wake:
				continue
			}
		}
		q.mu.Unlock()
		b, err := q.readBatch(from, segEnd, maxSamples)
		q.mu.Lock()
		if q.read != from {
			// The bound dropped this segment meanwhile; start again from
			// where the queue now reads.
			q.mu.Unlock()
			continue
		}
		if err != nil {
			// A damaged record: the rest of the segment is unreadable.
			lost, _ := q.countFrom(from.seg, b.end.off)
			q.dropped += lost
			q.pending -= lost
			q.log.Error("remote-write queue: damaged record; skipping the rest of the segment",
				"segment", q.segPath(from.seg), "offset", b.end.off, "samples", lost, "error", err)
			b.end = position{seg: from.seg, off: segEnd}
		}
		q.read = b.end
		q.mu.Unlock()
		if b.Samples == 0 {
			if err := q.Ack(b); err != nil {
				return Batch{}, err
			}
			continue
		}
		return b, nil
	}
}

// readBatch reads records of one segment from from up to end.
func (q *Queue) readBatch(from position, end int64, maxSamples int) (Batch, error) {
	b := Batch{from: from, end: from}
	f, err := os.Open(q.segPath(from.seg))
	if err != nil {
		return b, err
	}
	defer f.Close()
	if _, err := f.Seek(from.off, io.SeekStart); err != nil {
		return b, err
	}
	r := bufio.NewReaderSize(io.LimitReader(f, end-from.off), 64<<10)
	hbuf := make([]byte, headerSize)
	for b.end.off < end && (b.Samples == 0 || b.Samples < maxSamples) {
		h, payload, err := readRecord(r, hbuf)
		if err != nil {
			return b, err
		}
		series, err := decodePayload(payload)
		if err != nil {
			return b, err
		}
		b.Series = append(b.Series, series...)
		b.Samples += int(h.samples)
		b.end.off += headerSize + int64(h.size)
	}
	return b, nil
}

// Ack records that the receiver acknowledged b: its samples leave the
// queue, and segments wholly acknowledged are removed.
func (q *Queue) Ack(b Batch) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.pending -= int64(b.Samples) // sent, even if the bound dropped its segment meanwhile
	if !q.acked.before(b.end) {
		return nil
	}
	q.acked = b.end
	for len(q.segs) > 1 && q.segs[0].id < q.acked.seg {
		os.Remove(q.segPath(q.segs[0].id))
		q.total -= q.segs[0].size
		q.segs = q.segs[1:]
	}
	return q.writeAcked()
}

// Stats returns the queue's counts.
func (q *Queue) Stats() QueueStats {
	q.mu.Lock()
	defer q.mu.Unlock()
	return QueueStats{Pending: q.pending, Dropped: q.dropped, Bytes: q.total}
}

// Close closes the queue; what is pending stays on disk for the next
// OpenQueue.
func (q *Queue) Close() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return nil
	}
	q.closed = true
	close(q.wake)
	return q.file.Close()
}
