package tsdb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// WAL record types (first byte of a record's payload).
const (
	recSeries  byte = 1 // series refs and their labels
	recSamples byte = 2 // samples by series ref
	recChunk   byte = 3 // one encoded head chunk (checkpoints only)
)

var errRecord = errors.New("malformed record")

// walSeries is a series definition in the WAL.
type walSeries struct {
	ref  uint32
	lset Labels
}

// walSample is a sample in the WAL.
type walSample struct {
	ref uint32
	t   int64
	v   float64
}

// appendSeriesRecord encodes one series definition.
func appendSeriesRecord(b []byte, ref uint32, ls Labels) []byte {
	b = append(b, recSeries)
	b = binary.AppendUvarint(b, uint64(ref))
	b = binary.AppendUvarint(b, uint64(len(ls)))
	for _, l := range ls {
		b = binary.AppendUvarint(b, uint64(len(l.Name)))
		b = append(b, l.Name...)
		b = binary.AppendUvarint(b, uint64(len(l.Value)))
		b = append(b, l.Value...)
	}
	return b
}

// appendSamplesHeader starts a samples record of n samples.
func appendSamplesHeader(b []byte, n int) []byte {
	b = append(b, recSamples)
	return binary.AppendUvarint(b, uint64(n))
}

// appendSample encodes a sample relative to the previous one in the record.
func appendSample(b []byte, prevRef uint32, prevT int64, s walSample) []byte {
	b = binary.AppendVarint(b, int64(s.ref)-int64(prevRef))
	b = binary.AppendVarint(b, s.t-prevT)
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(s.v))
}

// appendChunkRecord encodes one head chunk.
// appendSamplesOf appends a samples record of one series.
func appendSamplesOf(b []byte, ref uint32, ss []sample) []byte {
	b = appendSamplesHeader(b, len(ss))
	var prevRef uint32
	var prevT int64
	for _, o := range ss {
		b = appendSample(b, prevRef, prevT, walSample{ref, o.t, o.v})
		prevRef, prevT = ref, o.t
	}
	return b
}

func appendChunkRecord(b []byte, ref uint32, c chunkData) []byte {
	b = append(b, recChunk)
	b = binary.AppendUvarint(b, uint64(ref))
	b = binary.AppendUvarint(b, uint64(len(c.data)))
	return append(b, c.data...)
}

// recordDecoder reads records; its methods check every length.
type recordDecoder struct {
	b   []byte
	err error
}

func (d *recordDecoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = fmt.Errorf("%w: bad uvarint", errRecord)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *recordDecoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = fmt.Errorf("%w: bad varint", errRecord)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *recordDecoder) bytes(n uint64) []byte {
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.err = fmt.Errorf("%w: %d bytes wanted, %d left", errRecord, n, len(d.b))
		return nil
	}
	out := d.b[:n]
	d.b = d.b[n:]
	return out
}

func (d *recordDecoder) ref() uint32 {
	v := d.uvarint()
	if v == 0 || v > math.MaxUint32 {
		if d.err == nil {
			d.err = fmt.Errorf("%w: series ref %d out of range", errRecord, v)
		}
		return 0
	}
	return uint32(v)
}

// decodeSeries decodes a series record (after the type byte).
func decodeSeries(b []byte) (walSeries, error) {
	d := recordDecoder{b: b}
	s := walSeries{ref: d.ref()}
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		return s, fmt.Errorf("%w: %d labels in %d bytes", errRecord, n, len(d.b))
	}
	s.lset = make(Labels, 0, n)
	for i := uint64(0); i < n && d.err == nil; i++ {
		name := string(d.bytes(d.uvarint()))
		value := string(d.bytes(d.uvarint()))
		s.lset = append(s.lset, Label{name, value})
	}
	if d.err == nil && len(d.b) != 0 {
		d.err = fmt.Errorf("%w: %d trailing bytes in series record", errRecord, len(d.b))
	}
	if d.err == nil && !s.lset.sorted() {
		d.err = fmt.Errorf("%w: labels not sorted", errRecord)
	}
	return s, d.err
}

// decodeSamples decodes a samples record (after the type byte), appending
// to buf.
func decodeSamples(b []byte, buf []walSample) ([]walSample, error) {
	d := recordDecoder{b: b}
	n := d.uvarint()
	if n > uint64(len(d.b))/10+1 {
		return buf, fmt.Errorf("%w: %d samples in %d bytes", errRecord, n, len(d.b))
	}
	var ref, t int64
	for i := uint64(0); i < n && d.err == nil; i++ {
		ref += d.varint()
		t += d.varint()
		v := d.bytes(8)
		if d.err != nil {
			break
		}
		if ref <= 0 || ref > math.MaxUint32 {
			return buf, fmt.Errorf("%w: series ref %d out of range", errRecord, ref)
		}
		buf = append(buf, walSample{uint32(ref), t, math.Float64frombits(binary.LittleEndian.Uint64(v))})
	}
	if d.err == nil && len(d.b) != 0 {
		d.err = fmt.Errorf("%w: %d trailing bytes in samples record", errRecord, len(d.b))
	}
	return buf, d.err
}

// decodeChunk decodes a chunk record (after the type byte).
func decodeChunk(b []byte) (uint32, []byte, error) {
	d := recordDecoder{b: b}
	ref := d.ref()
	data := d.bytes(d.uvarint())
	if d.err == nil && len(d.b) != 0 {
		d.err = fmt.Errorf("%w: %d trailing bytes in chunk record", errRecord, len(d.b))
	}
	return ref, data, d.err
}
