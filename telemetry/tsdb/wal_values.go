package tsdb

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Value column of a columns WAL record: a mode byte, then
//
//	mode 0 (decimal): scale k byte | n × (Δm varint) | exceptions uvarint |
//	                  (Δindex uvarint, float64 bits LE)…
//	mode 1 (raw):     n × float64 bits LE
//
// In decimal mode value i is m_i / 10^k bit for bit, where m_i is the sum
// of the first i+1 deltas, except at the listed indexes (the first index
// absolute, later ones as increases), whose exact bits follow; an
// exception's mantissa repeats the previous one.
const (
	valuesDecimal byte = 0
	valuesRaw     byte = 1
	maxValueScale      = 6
)

var walPow10 = [maxValueScale + 1]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6}

// walMantissa returns m with float64(m)/div == v bit for bit.
func walMantissa(v, div float64) (int64, bool) {
	f := math.Round(v * div)
	if !(f > -(1<<53) && f < 1<<53) { // also NaN and ±Inf
		return 0, false
	}
	m := int64(f)
	return m, math.Float64bits(float64(m)/div) == math.Float64bits(v)
}

// appendValueColumn appends the value column of vs. It computes the
// mantissas at the smallest scale so far and starts again at a larger
// one when a value needs it (at most maxValueScale times).
func appendValueColumn(b []byte, sc *columnScratch, vs []float64) []byte {
	k := 0
restart:
	div := walPow10[k]
	sc.mants, sc.exc = sc.mants[:0], sc.exc[:0]
	var prev int64
	for i, v := range vs {
		m, ok := walMantissa(v, div)
		if !ok {
			for kk := k + 1; kk <= maxValueScale; kk++ {
				if _, ok := walMantissa(v, walPow10[kk]); ok {
					k = kk
					goto restart
				}
			}
			sc.exc = append(sc.exc, i)
			m = prev
		}
		sc.mants = append(sc.mants, m)
		prev = m
	}
	if len(sc.exc)*2 > len(vs) {
		b = append(b, valuesRaw)
		for _, v := range vs {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
		}
		return b
	}
	b = append(b, valuesDecimal, byte(k))
	prev = 0
	for _, m := range sc.mants {
		b = binary.AppendVarint(b, m-prev)
		prev = m
	}
	b = binary.AppendUvarint(b, uint64(len(sc.exc)))
	last := 0
	for _, i := range sc.exc {
		b = binary.AppendUvarint(b, uint64(i-last))
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(vs[i]))
		last = i
	}
	return b
}

// decodeValueColumn decodes n values from d into dst (reusing its
// storage).
func decodeValueColumn(d *recordDecoder, n int, dst []float64) []float64 {
	dst = dst[:0]
	mode := d.bytes(1)
	if d.err != nil {
		return dst
	}
	switch mode[0] {
	case valuesRaw:
		raw := d.bytes(uint64(n) * 8)
		for i := 0; i < len(raw); i += 8 {
			dst = append(dst, math.Float64frombits(binary.LittleEndian.Uint64(raw[i:])))
		}
		return dst
	case valuesDecimal:
	default:
		d.err = fmt.Errorf("%w: value column mode %d", errRecord, mode[0])
		return dst
	}
	k := d.bytes(1)
	if d.err != nil {
		return dst
	}
	if k[0] > maxValueScale {
		d.err = fmt.Errorf("%w: value scale %d, limit %d", errRecord, k[0], maxValueScale)
		return dst
	}
	div := walPow10[k[0]]
	var m int64
	for i := 0; i < n && d.err == nil; i++ {
		m += d.varint()
		dst = append(dst, float64(m)/div)
	}
	exc := d.uvarint()
	if d.err == nil && exc > uint64(n) {
		d.err = fmt.Errorf("%w: %d exceptions among %d values", errRecord, exc, n)
	}
	idx := uint64(0)
	for j := uint64(0); j < exc && d.err == nil; j++ {
		step := d.uvarint()
		if j > 0 && step == 0 {
			d.err = fmt.Errorf("%w: exception indexes not increasing", errRecord)
			break
		}
		idx += step
		bits := d.bytes(8)
		if d.err != nil {
			break
		}
		if idx >= uint64(n) {
			d.err = fmt.Errorf("%w: exception index %d of %d values", errRecord, idx, n)
			break
		}
		dst[idx] = math.Float64frombits(binary.LittleEndian.Uint64(bits))
	}
	return dst
}
