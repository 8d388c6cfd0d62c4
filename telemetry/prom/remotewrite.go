package prom

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"unsafe"

	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

// Sample is one remote-write sample: a value at a millisecond timestamp.
type Sample struct {
	Value     float64
	Timestamp int64
}

// TimeSeries is one series of a remote-write request.
type TimeSeries struct {
	Labels  tsdb.Labels
	Samples []Sample
	// Histograms counts native histogram samples, which are not stored.
	Histograms int
}

// WriteRequest is a decoded prometheus.WriteRequest (remote write 1.0).
type WriteRequest struct {
	Series []TimeSeries

	// DecodeWriteRequest keeps every series' labels and samples in two
	// slabs, so that a reused request holds three slices, not two per
	// series; ends marks where each series' part ends.
	labels  []tsdb.Label
	samples []Sample
	ends    []seriesEnd
}

// seriesEnd is where a decoded series' labels and samples end in the
// request's slabs.
type seriesEnd struct{ labels, samples int }

// ErrMalformed marks a remote-write payload that is not a valid
// WriteRequest.
var ErrMalformed = errors.New("malformed remote-write payload")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// Protobuf wire types.
const (
	wireVarint = 0
	wire64     = 1
	wireLen    = 2
	wire32     = 5
)

// DecodeWriteRequest decodes a protobuf-encoded WriteRequest into req,
// reusing its slices. The label strings point into buf: buf must not be
// modified while req is in use. The series' Labels and Samples share
// req's storage: each is valid until req is decoded into again. On an
// error req holds no series.
func DecodeWriteRequest(buf []byte, req *WriteRequest) error {
	if err := req.decode(buf); err != nil {
		req.Series = req.Series[:0]
		return err
	}
	return nil
}

func (req *WriteRequest) decode(buf []byte) error {
	series := req.Series[:0]
	req.labels, req.samples, req.ends = req.labels[:0], req.samples[:0], req.ends[:0]
	d := decoder{b: buf}
	for !d.done() {
		field, wire, err := d.key()
		if err != nil {
			return malformed("WriteRequest: %v", err)
		}
		if field == 1 && wire == wireLen {
			msg, err := d.bytes()
			if err != nil {
				return malformed("WriteRequest.timeseries[%d]: %v", len(series), err)
			}
			if cap(series) > len(series) {
				series = series[:len(series)+1]
			} else {
				series = append(series, TimeSeries{})
			}
			ts := &series[len(series)-1]
			if err := req.decodeTimeSeries(msg, ts); err != nil {
				return malformed("WriteRequest.timeseries[%d]: %v", len(series)-1, err)
			}
			req.ends = append(req.ends, seriesEnd{labels: len(req.labels), samples: len(req.samples)})
			continue
		}
		if field == 1 {
			return malformed("WriteRequest.timeseries: wire type %d, want 2", wire)
		}
		if err := d.skip(wire); err != nil {
			return malformed("WriteRequest field %d: %v", field, err)
		}
	}
	// The slabs may have moved while they grew: the series take their
	// parts only now, each capped so that appending to one cannot
	// overwrite the next.
	var l, n int
	for i, e := range req.ends {
		series[i].Labels = req.labels[l:e.labels:e.labels]
		series[i].Samples = req.samples[n:e.samples:e.samples]
		l, n = e.labels, e.samples
	}
	req.Series = series
	return nil
}

// decodeTimeSeries decodes one series, appending its labels and samples
// to req's slabs.
func (req *WriteRequest) decodeTimeSeries(b []byte, ts *TimeSeries) error {
	ts.Labels, ts.Samples = nil, nil
	ts.Histograms = 0
	labels0, samples0 := len(req.labels), len(req.samples)
	d := decoder{b: b}
	for !d.done() {
		// Labels and samples as encoders write them take a short path;
		// anything else the general one.
		if l, n := shortLabel(b[d.off:]); n > 0 {
			req.labels = append(req.labels, l)
			d.off += n
			continue
		}
		if s, n := shortSample(b[d.off:]); n > 0 {
			req.samples = append(req.samples, s)
			d.off += n
			continue
		}
		field, wire, err := d.key()
		if err != nil {
			return err
		}
		switch {
		case field == 1 && wire == wireLen:
			msg, err := d.bytes()
			if err != nil {
				return fmt.Errorf("labels[%d]: %w", len(req.labels)-labels0, err)
			}
			l, err := decodeLabel(msg)
			if err != nil {
				return fmt.Errorf("labels[%d]: %w", len(req.labels)-labels0, err)
			}
			req.labels = append(req.labels, l)
		case field == 2 && wire == wireLen:
			msg, err := d.bytes()
			if err != nil {
				return fmt.Errorf("samples[%d]: %w", len(req.samples)-samples0, err)
			}
			s, err := decodeSample(msg)
			if err != nil {
				return fmt.Errorf("samples[%d]: %w", len(req.samples)-samples0, err)
			}
			req.samples = append(req.samples, s)
		case field == 4 && wire == wireLen:
			if _, err := d.bytes(); err != nil {
				return fmt.Errorf("histograms[%d]: %w", ts.Histograms, err)
			}
			ts.Histograms++
		case field == 1 || field == 2 || field == 4:
			return fmt.Errorf("field %d: wire type %d, want 2", field, wire)
		default:
			if err := d.skip(wire); err != nil {
				return fmt.Errorf("field %d: %w", field, err)
			}
		}
	}
	return nil
}

// shortLabel decodes a TimeSeries' labels field at the start of b when
// it is a Label of a name and then a value, each under 128 bytes, and
// nothing else: what encoders write. It returns the bytes it took, or 0
// when b is not in that form.
func shortLabel(b []byte) (tsdb.Label, int) {
	if len(b) < 2 || b[0] != 1<<3|wireLen || b[1] >= 0x80 {
		return tsdb.Label{}, 0
	}
	n := 2 + int(b[1])
	if n > len(b) {
		return tsdb.Label{}, 0
	}
	msg := b[2:n]
	if len(msg) < 4 || msg[0] != 1<<3|wireLen || msg[1] >= 0x80 {
		return tsdb.Label{}, 0
	}
	v := 2 + int(msg[1])
	if v+2 > len(msg) || msg[v] != 2<<3|wireLen || msg[v+1] >= 0x80 || v+2+int(msg[v+1]) != len(msg) {
		return tsdb.Label{}, 0
	}
	name, value := msg[2:v], msg[v+2:]
	return tsdb.Label{Name: unsafe.String(unsafe.SliceData(name), len(name)),
		Value: unsafe.String(unsafe.SliceData(value), len(value))}, n
}

// shortSample decodes a TimeSeries' samples field at the start of b when
// it is a Sample of a value and then a timestamp, and nothing else. It
// returns the bytes it took, or 0 when b is not in that form.
func shortSample(b []byte) (Sample, int) {
	if len(b) < 2 || b[0] != 2<<3|wireLen || b[1] >= 0x80 {
		return Sample{}, 0
	}
	n := 2 + int(b[1])
	if n > len(b) {
		return Sample{}, 0
	}
	msg := b[2:n]
	if len(msg) < 11 || msg[0] != 1<<3|wire64 || msg[9] != 2<<3|wireVarint {
		return Sample{}, 0
	}
	ts, k := binary.Uvarint(msg[10:])
	if k <= 0 || 10+k != len(msg) {
		return Sample{}, 0
	}
	return Sample{Value: math.Float64frombits(binary.LittleEndian.Uint64(msg[1:9])), Timestamp: int64(ts)}, n
}

func decodeLabel(b []byte) (tsdb.Label, error) {
	var l tsdb.Label
	d := decoder{b: b}
	for !d.done() {
		field, wire, err := d.key()
		if err != nil {
			return l, err
		}
		if (field == 1 || field == 2) && wire == wireLen {
			s, err := d.bytes()
			if err != nil {
				return l, err
			}
			str := unsafe.String(unsafe.SliceData(s), len(s))
			if field == 1 {
				l.Name = str
			} else {
				l.Value = str
			}
			continue
		}
		if field == 1 || field == 2 {
			return l, fmt.Errorf("field %d: wire type %d, want 2", field, wire)
		}
		if err := d.skip(wire); err != nil {
			return l, err
		}
	}
	return l, nil
}

func decodeSample(b []byte) (Sample, error) {
	var s Sample
	d := decoder{b: b}
	for !d.done() {
		field, wire, err := d.key()
		if err != nil {
			return s, err
		}
		switch {
		case field == 1 && wire == wire64:
			u, err := d.fixed64()
			if err != nil {
				return s, err
			}
			s.Value = math.Float64frombits(u)
		case field == 2 && wire == wireVarint:
			u, err := d.varint()
			if err != nil {
				return s, err
			}
			s.Timestamp = int64(u)
		case field == 1 || field == 2:
			return s, fmt.Errorf("field %d: unexpected wire type %d", field, wire)
		default:
			if err := d.skip(wire); err != nil {
				return s, err
			}
		}
	}
	return s, nil
}

// decoder reads protobuf wire format.
type decoder struct {
	b   []byte
	off int
}

func (d *decoder) done() bool { return d.off >= len(d.b) }

// varint reads a varint; the one-byte case, most of a request's keys and
// lengths, is small enough to be inlined into its callers.
func (d *decoder) varint() (uint64, error) {
	if d.off < len(d.b) && d.b[d.off] < 0x80 {
		v := d.b[d.off]
		d.off++
		return uint64(v), nil
	}
	return d.longVarint()
}

func (d *decoder) longVarint() (uint64, error) {
	v, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 {
		return 0, fmt.Errorf("bad varint at byte %d", d.off)
	}
	d.off += n
	return v, nil
}

func (d *decoder) key() (field int, wire int, err error) {
	k, err := d.varint()
	if err != nil {
		return 0, 0, err
	}
	if k>>3 == 0 || k>>3 > math.MaxInt32 {
		return 0, 0, fmt.Errorf("bad field number %d", k>>3)
	}
	return int(k >> 3), int(k & 7), nil
}

func (d *decoder) bytes() ([]byte, error) {
	n, err := d.varint()
	if err != nil {
		return nil, err
	}
	if n > uint64(len(d.b)-d.off) {
		return nil, fmt.Errorf("length %d at byte %d runs past the end (%d bytes)", n, d.off, len(d.b))
	}
	b := d.b[d.off : d.off+int(n)]
	d.off += int(n)
	return b, nil
}

func (d *decoder) fixed64() (uint64, error) {
	if len(d.b)-d.off < 8 {
		return 0, fmt.Errorf("truncated fixed64 at byte %d", d.off)
	}
	v := binary.LittleEndian.Uint64(d.b[d.off:])
	d.off += 8
	return v, nil
}

func (d *decoder) skip(wire int) error {
	switch wire {
	case wireVarint:
		_, err := d.varint()
		return err
	case wire64:
		_, err := d.fixed64()
		return err
	case wireLen:
		_, err := d.bytes()
		return err
	case wire32:
		if len(d.b)-d.off < 4 {
			return fmt.Errorf("truncated fixed32 at byte %d", d.off)
		}
		d.off += 4
		return nil
	}
	return fmt.Errorf("unsupported wire type %d", wire)
}

// AppendWriteRequest appends the protobuf encoding of series (a
// prometheus.WriteRequest) to b.
func AppendWriteRequest(b []byte, series []TimeSeries) []byte {
	for i := range series {
		ts := &series[i]
		b = appendKey(b, 1, wireLen)
		b = binary.AppendUvarint(b, uint64(timeSeriesSize(ts)))
		for _, l := range ts.Labels {
			b = appendKey(b, 1, wireLen)
			b = binary.AppendUvarint(b, uint64(labelSize(l)))
			b = appendString(b, 1, l.Name)
			b = appendString(b, 2, l.Value)
		}
		for _, s := range ts.Samples {
			b = appendKey(b, 2, wireLen)
			b = binary.AppendUvarint(b, uint64(sampleSize(s)))
			b = appendKey(b, 1, wire64)
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(s.Value))
			if s.Timestamp != 0 {
				b = appendKey(b, 2, wireVarint)
				b = binary.AppendUvarint(b, uint64(s.Timestamp))
			}
		}
	}
	return b
}

func appendKey(b []byte, field, wire int) []byte {
	return binary.AppendUvarint(b, uint64(field<<3|wire))
}

func appendString(b []byte, field int, s string) []byte {
	if s == "" {
		return b
	}
	b = appendKey(b, field, wireLen)
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func uvarintSize(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

func stringSize(s string) int {
	if s == "" {
		return 0
	}
	return 1 + uvarintSize(uint64(len(s))) + len(s)
}

func labelSize(l tsdb.Label) int { return stringSize(l.Name) + stringSize(l.Value) }

func sampleSize(s Sample) int {
	n := 9
	if s.Timestamp != 0 {
		n += 1 + uvarintSize(uint64(s.Timestamp))
	}
	return n
}

func timeSeriesSize(ts *TimeSeries) int {
	n := 0
	for _, l := range ts.Labels {
		m := labelSize(l)
		n += 1 + uvarintSize(uint64(m)) + m
	}
	for _, s := range ts.Samples {
		m := sampleSize(s)
		n += 1 + uvarintSize(uint64(m)) + m
	}
	return n
}
