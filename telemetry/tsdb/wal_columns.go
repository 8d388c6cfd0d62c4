package tsdb

import (
	"encoding/binary"
	"fmt"
	"math"
	"runtime"

	"github.com/klauspost/compress/zstd"
)

// WAL record types written since issue 19; records of types 1–3 (see
// wal_records.go) are still read, so an older log replays.
const (
	// recSampleColumns holds samples as three columns:
	// n uvarint | refs | timestamps | values, each column in the
	// internal/column encoding of n entries.
	recSampleColumns byte = 4
	// recCompressed holds other records: rawLen uvarint | zstd frame of
	// rawLen bytes, which are (len uvarint | record)… with no record of
	// this type among them.
	recCompressed byte = 5
)

const (
	// maxColumnSamples bounds the samples of one columns record (a batch
	// with more is logged as several).
	maxColumnSamples = 1 << 16
	// maxCompressedRaw bounds a compressed record's content; the
	// encoder stays far below it (a columns record of maxColumnSamples
	// takes at most 1.8 MiB, series are compressed a mebibyte at a time).
	maxCompressedRaw = 1 << 26
)

var (
	// walZstdEncoder compresses WAL records; EncodeAll is safe for
	// concurrent use, each call on one of GOMAXPROCS encoders.
	walZstdEncoder, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest),
		zstd.WithEncoderCRC(false), zstd.WithEncoderConcurrency(runtime.GOMAXPROCS(0)),
		zstd.WithLowerEncoderMem(true), zstd.WithWindowSize(1<<17)) // records are far smaller
	walZstdDecoder, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0),
		zstd.WithDecoderMaxMemory(maxCompressedRaw))
)

// walEncoder builds an Appender's compressed WAL records, reusing its
// buffers between batches.
type walEncoder struct {
	col     columnScratch
	refs    []int64
	ts      []int64
	vs      []float64
	rec     []byte // one uncompressed record
	raw     []byte // length-prefixed records to compress
	samples compressedRecords
	series  compressedRecords
}

// compressedRecords are compressed records in one buffer.
type compressedRecords struct {
	buf  []byte
	ends []int
	recs [][]byte
}

func (c *compressedRecords) reset() { c.buf, c.ends = c.buf[:0], c.ends[:0] }

func (c *compressedRecords) add(raw []byte) {
	c.buf = appendCompressed(c.buf, raw)
	c.ends = append(c.ends, len(c.buf))
}

// records returns the records added since reset; they stay valid until
// the next reset.
func (c *compressedRecords) records() [][]byte {
	c.recs = c.recs[:0]
	start := 0
	for _, end := range c.ends {
		c.recs = append(c.recs, c.buf[start:end])
		start = end
	}
	return c.recs
}

// keptBufferBytes is the most a pooled Appender keeps of a WAL buffer
// between batches: what a batch of samples of known series needs (a few
// bytes a sample). The series records of a batch of new series grow the
// buffers past it, and a server that takes many concurrent batches would
// otherwise keep each appender's largest for good.
const keptBufferBytes = 64 << 10

// release drops buffers that a batch grew past keptBufferBytes.
func (c *compressedRecords) release() {
	if cap(c.buf) > keptBufferBytes {
		*c = compressedRecords{}
	}
}

// sampleRecords returns the compressed records of ps: one per
// maxColumnSamples samples.
func (e *walEncoder) sampleRecords(ps []pendingSample) [][]byte {
	e.samples.reset()
	for len(ps) > 0 {
		n := min(len(ps), maxColumnSamples)
		e.refs, e.ts, e.vs = e.refs[:0], e.ts[:0], e.vs[:0]
		for _, p := range ps[:n] {
			e.refs = append(e.refs, int64(p.s.ref))
			e.ts = append(e.ts, p.t)
			e.vs = append(e.vs, p.v)
		}
		e.rec = appendColumnsRecord(e.rec[:0], &e.col, e.refs, e.ts, e.vs)
		e.raw = appendInner(e.raw[:0], e.rec)
		e.samples.add(e.raw)
		ps = ps[n:]
	}
	return e.samples.records()
}

// seriesRecords returns the compressed records of the series definitions
// of ss, each holding about a mebibyte of them at most.
func (e *walEncoder) seriesRecords(ss []*memSeries) [][]byte {
	e.series.reset()
	e.raw = e.raw[:0]
	for i, s := range ss {
		e.rec = appendSeriesRecord(e.rec[:0], s.ref, s.labels())
		e.raw = appendInner(e.raw, e.rec)
		if len(e.raw) >= 1<<20 || i == len(ss)-1 {
			e.series.add(e.raw)
			e.raw = e.raw[:0]
		}
	}
	return e.series.records()
}

// release drops buffers that a batch grew past keptBufferBytes.
func (e *walEncoder) release() {
	e.samples.release()
	e.series.release()
	if cap(e.raw) > keptBufferBytes || cap(e.rec) > keptBufferBytes || cap(e.refs) > 1<<14 {
		e.raw, e.rec, e.refs, e.ts, e.vs = nil, nil, nil, nil, nil
	}
}

func appendInner(b, rec []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(rec)))
	return append(b, rec...)
}

// appendColumnsRecord appends a columns record of the samples
// (refs[i], ts[i], vs[i]); the slices have one length, at most
// maxColumnSamples. Each column is one pass with a fixed transform, cheap
// enough for every batch; the zstd frame around it finds what is left.
func appendColumnsRecord(b []byte, sc *columnScratch, refs, ts []int64, vs []float64) []byte {
	b = append(b, recSampleColumns)
	b = binary.AppendUvarint(b, uint64(len(refs)))
	var prev int64
	for _, r := range refs {
		b = binary.AppendVarint(b, r-prev)
		prev = r
	}
	var prevT, prevD int64
	for _, t := range ts {
		d := t - prevT
		b = binary.AppendVarint(b, d-prevD)
		prevT, prevD = t, d
	}
	return appendValueColumn(b, sc, vs)
}

// appendCompressed appends a compressed record holding raw (records
// framed by appendInner).
func appendCompressed(dst, raw []byte) []byte {
	dst = append(dst, recCompressed)
	dst = binary.AppendUvarint(dst, uint64(len(raw)))
	return walZstdEncoder.EncodeAll(raw, dst)
}

// columnScratch holds a columns encoder's or decoder's buffers.
type columnScratch struct {
	mants []int64
	exc   []int
	vs    []float64
}

// decodeColumns decodes a columns record (after the type byte), appending
// to buf.
func decodeColumns(b []byte, buf []walSample, sc *columnScratch) ([]walSample, error) {
	d := recordDecoder{b: b}
	n := d.uvarint()
	if d.err != nil {
		return buf, d.err
	}
	// Every sample takes at least a byte in each column.
	if n == 0 || n > maxColumnSamples || n > uint64(len(d.b))/3 {
		return buf, fmt.Errorf("%w: columns record of %d samples in %d bytes", errRecord, n, len(d.b))
	}
	start := len(buf)
	var ref int64
	for i := uint64(0); i < n && d.err == nil; i++ {
		ref += d.varint()
		if d.err == nil && (ref <= 0 || ref > math.MaxUint32) {
			d.err = fmt.Errorf("%w: series ref %d out of range", errRecord, ref)
		}
		buf = append(buf, walSample{ref: uint32(ref)})
	}
	var t, delta int64
	for i := uint64(0); i < n && d.err == nil; i++ {
		delta += d.varint()
		t += delta
		buf[start+int(i)].t = t
	}
	sc.vs = decodeValueColumn(&d, int(n), sc.vs)
	if d.err == nil && len(d.b) != 0 {
		d.err = fmt.Errorf("%w: %d trailing bytes in columns record", errRecord, len(d.b))
	}
	if d.err != nil {
		return buf[:start], d.err
	}
	for i, v := range sc.vs {
		buf[start+i].v = v
	}
	return buf, nil
}

// decodeCompressed decompresses a compressed record (after the type byte)
// into raw (reusing its storage) and returns the records it holds, which
// point into raw. It checks the whole framing before returning anything,
// so a malformed record yields no records.
func decodeCompressed(b, raw []byte, recs [][]byte) ([]byte, [][]byte, error) {
	d := recordDecoder{b: b}
	rawLen := d.uvarint()
	if d.err != nil {
		return raw, recs, d.err
	}
	if rawLen > maxCompressedRaw {
		return raw, recs, fmt.Errorf("%w: compressed record of %d bytes, limit %d", errRecord, rawLen, maxCompressedRaw)
	}
	// A frame header that declares another size is refused before
	// anything is decompressed (small frames may declare none).
	var hdr zstd.Header
	if err := hdr.Decode(d.b); err != nil {
		return raw, recs, fmt.Errorf("%w: zstd frame header: %w", errRecord, err)
	}
	if hdr.HasFCS && hdr.FrameContentSize != rawLen {
		return raw, recs, fmt.Errorf("%w: zstd frame declares %d bytes, record header %d", errRecord, hdr.FrameContentSize, rawLen)
	}
	raw, err := walZstdDecoder.DecodeAll(d.b, raw[:0])
	if err != nil {
		return raw, recs, fmt.Errorf("%w: decompress: %w", errRecord, err)
	}
	if uint64(len(raw)) != rawLen {
		return raw, recs, fmt.Errorf("%w: compressed record holds %d bytes, header says %d", errRecord, len(raw), rawLen)
	}
	inner := recordDecoder{b: raw}
	for len(inner.b) > 0 && inner.err == nil {
		rec := inner.bytes(inner.uvarint())
		switch {
		case inner.err != nil:
		case len(rec) == 0:
			inner.err = fmt.Errorf("%w: empty record inside a compressed record", errRecord)
		case rec[0] == recCompressed:
			inner.err = fmt.Errorf("%w: compressed record nested in another", errRecord)
		default:
			recs = append(recs, rec)
		}
	}
	if inner.err != nil {
		return raw, recs[:0], inner.err
	}
	return raw, recs, nil
}
