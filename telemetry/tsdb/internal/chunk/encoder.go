package chunk

import (
	"encoding/binary"
	"math"
	"math/bits"
)

// MaxSamples is the most samples one chunk holds.
const MaxSamples = math.MaxUint16

// headerSize is the length of the sample-count header.
const headerSize = 2

// Code tables. A zigzagged integer z is written as a unary prefix choosing a
// bucket, then the bucket's width in bits.
var (
	// tsWidths: '0' z=0; '10' 5 bits; '110' 9; '1110' 16; '11110' 32; '11111' 64.
	tsWidths = [...]int{5, 9, 16, 32, 64}
	// dodWidths: '0' 6 bits; '10' 14; '110' 24; '111' 64.
	dodWidths = [...]int{6, 14, 24, 64}
)

// Encoder appends samples to a chunk. The zero value is not ready: call Reset.
// Samples must be appended in strictly increasing time order.
type Encoder struct {
	b      []byte // the chunk
	t      int64
	tDelta int64
	vBits  uint64 // previous value, any mode
	pm     int64  // previous decimal mantissa
	pd     int64  // previous decimal delta

	used     uint8  // bits written in the last byte of b; 0 when it is full
	n        uint16 // samples appended, at most MaxSamples
	leading  uint8  // Gorilla window; 0xff before the first XOR sample
	trailing uint8
	k        uint8 // decimal scale
	valid    bool  // pm and pd hold a decimal predictor
}

// Reset starts an empty chunk, reusing buf's storage.
func (e *Encoder) Reset(buf []byte) {
	*e = Encoder{leading: 0xff}
	e.b = append(buf[:0], 0, 0) // the header, headerSize bytes
}

// Len returns the number of samples appended.
func (e *Encoder) Len() int { return int(e.n) }

// Full reports whether the chunk can take no more samples.
func (e *Encoder) Full() bool { return int(e.n) >= MaxSamples }

// LastT returns the timestamp of the last sample appended.
func (e *Encoder) LastT() int64 { return e.t }

// LastValueBits returns the bits (math.Float64bits) of the value of the
// last sample appended; 0 for an empty chunk.
func (e *Encoder) LastValueBits() uint64 { return e.vBits }

// Bytes returns the encoded chunk. It aliases the encoder's buffer and stays
// valid, growing in place, while more samples are appended.
func (e *Encoder) Bytes() []byte { return e.b }

// Size returns the encoded size in bytes.
func (e *Encoder) Size() int { return len(e.b) }

// Append adds a sample. The caller guarantees t is greater than the last
// timestamp and that the chunk is not Full.
func (e *Encoder) Append(t int64, v float64) {
	switch e.n {
	case 0:
		e.writeBits(uint64(t), 64)
	case 1:
		e.tDelta = t - e.t
		writeBucket(e, zigzag(e.tDelta), tsWidths[:], true)
	default:
		d := t - e.t
		writeBucket(e, zigzag(d-e.tDelta), tsWidths[:], true)
		e.tDelta = d
	}
	e.t = t
	e.appendValue(v)
	e.n++
	binary.BigEndian.PutUint16(e.b, e.n)
}

func (e *Encoder) appendValue(v float64) {
	vb := math.Float64bits(v)
	defer func() { e.vBits = vb }()
	if e.valid {
		if m, ok := atScale(v, e.k); ok {
			dod := m - e.pm - e.pd
			if dod == 0 {
				e.writeBits(0b0, 1)
			} else {
				writeBucketAfter(e, 0b10, 2, zigzag(dod)-1, dodWidths[:], false)
			}
			e.pd = m - e.pm
			e.pm = m
			return
		}
	}
	if e.appendRescaled(v) {
		return
	}
	e.writeBits(0b111, 3)
	e.appendXOR(vb)
}

// appendRescaled writes v as a decimal at a new (larger) scale, or as the
// first decimal of the chunk. It reports false if v is no usable decimal.
func (e *Encoder) appendRescaled(v float64) bool {
	_, k0, ok := minimalDecimal(v)
	if !ok {
		return false
	}
	k := k0
	if e.valid && e.k > k {
		k = e.k
	}
	m, ok := atScale(v, k)
	if !ok {
		return false
	}
	if !e.valid {
		e.writeBits(0b110, 3)
		e.writeBits(uint64(k), 4)
		writeBucket(e, zigzag(m), dodWidths[:], false)
		e.k, e.valid, e.pm, e.pd = k, true, m, 0
		return true
	}
	pm, ok1 := rescale(e.pm, e.k, k)
	pd, ok2 := rescale(e.pd, e.k, k)
	if !ok1 || !ok2 {
		return false
	}
	e.writeBits(0b110, 3)
	e.writeBits(uint64(k), 4)
	writeBucket(e, zigzag(m-pm-pd), dodWidths[:], false)
	e.k, e.pd, e.pm = k, m-pm, m
	return true
}

// appendXOR writes Gorilla's XOR code against the previous value.
func (e *Encoder) appendXOR(vb uint64) {
	x := vb ^ e.vBits
	if x == 0 {
		e.writeBits(0, 1)
		return
	}
	lead := uint8(bits.LeadingZeros64(x))
	trail := uint8(bits.TrailingZeros64(x))
	if lead > 31 {
		lead = 31
	}
	if e.leading != 0xff && lead >= e.leading && trail >= e.trailing {
		e.writeBits(0b10, 2)
		e.writeBits(x>>e.trailing, 64-int(e.leading)-int(e.trailing))
		return
	}
	e.leading, e.trailing = lead, trail
	sig := 64 - int(lead) - int(trail)
	e.writeBits(0b11, 2)
	e.writeBits(uint64(lead), 5)
	e.writeBits(uint64(sig-1), 6)
	e.writeBits(x>>trail, sig)
}

// writeBucket writes z with a unary bucket prefix. With zeroBit, z == 0 is
// the single bit '0' and the buckets hold z-1.
func writeBucket(w *Encoder, z uint64, widths []int, zeroBit bool) {
	writeBucketAfter(w, 0, 0, z, widths, zeroBit)
}

// writeBucketAfter is writeBucket preceded by the lead bits lead (leadLen
// of them, at most 8), written in one writeBits call when they fit in 64
// bits with the prefix and z.
func writeBucketAfter(w *Encoder, lead uint64, leadLen int, z uint64, widths []int, zeroBit bool) {
	prefix, plen := lead, leadLen
	if zeroBit {
		if z == 0 {
			w.writeBits(prefix<<1, plen+1)
			return
		}
		prefix, plen = prefix<<1|1, plen+1
		z--
	}
	last := len(widths) - 1
	for i, width := range widths {
		if i == last || z < 1<<uint(width) {
			if i < last {
				prefix, plen = prefix<<uint(i+1)|(1<<uint(i+1)-2), plen+i+1 // i ones then a zero
			} else {
				prefix, plen = prefix<<uint(i)|(1<<uint(i)-1), plen+i // all ones
			}
			if plen+width <= 64 {
				w.writeBits(prefix<<uint(width)|z&(1<<uint(width)-1), plen+width)
				return
			}
			w.writeBits(prefix, plen)
			w.writeBits(z, width)
			return
		}
	}
}
