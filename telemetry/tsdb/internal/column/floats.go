package column

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
)

// Value column modes.
const (
	modeDecimal = 0 // divisor byte, integer mantissas, exceptions
	modeXOR     = 1 // 8 byte planes of each value's bits XOR the previous value's
	modeBits    = 2 // 8 byte planes of each value's bits
)

// Divisors: a divisor byte d < 32 stands for 10^d; 32+j for 60·10^j, the
// divisor of Atlas's per-second rates published every minute.
const (
	maxDecimal = 18
	rate60     = 32
	maxRate60  = 3
)

// maxExact bounds the mantissas that float64 holds exactly.
const maxExact = 1 << 53

var pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18}

// divisor returns the float a divisor byte stands for.
func divisor(d byte) (float64, bool) {
	switch {
	case d <= maxDecimal:
		return pow10[d], true
	case d >= rate60 && d <= rate60+maxRate60:
		return 60 * pow10[d-rate60], true
	}
	return 0, false
}

// mantissa returns m with float64(m)/div == v bit for bit.
func mantissa(v, div float64) (int64, bool) {
	f := math.Round(v * div)
	if !(f > -maxExact && f < maxExact) { // also NaN and ±Inf
		return 0, false
	}
	m := int64(f)
	return m, math.Float64bits(float64(m)/div) == math.Float64bits(v)
}

// Encoder encodes columns, reusing scratch space between calls. The zero
// value is ready to use.
type Encoder struct {
	ints  intEncoder
	mants []int64
	exc   []int
}

// AppendFloats appends the encoding of vs to dst; len(vs) is not recorded.
func (e *Encoder) AppendFloats(dst []byte, vs []float64) []byte {
	if len(vs) == 0 {
		return dst
	}
	d, ok := e.chooseDivisor(vs, 0, maxDecimal)
	if !ok || len(e.exc)*4 > len(vs) {
		exc := len(e.exc)
		if d60, ok60 := e.chooseDivisor(vs, rate60, rate60+maxRate60); ok60 && len(e.exc) < exc {
			d, ok = d60, true
		} else if ok {
			d, _ = e.chooseDivisor(vs, 0, maxDecimal) // restore its exceptions
		}
	}
	if !ok || len(e.exc)*2 > len(vs) {
		return appendPlanes(dst, vs)
	}
	dst = append(dst, modeDecimal, d)
	dst = e.ints.append(dst, e.mants)
	dst = binary.AppendUvarint(dst, uint64(len(e.exc)))
	prev := 0
	for _, i := range e.exc {
		dst = binary.AppendUvarint(dst, uint64(i-prev))
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(vs[i]))
		prev = i
	}
	return dst
}

// chooseDivisor finds the smallest divisor among bytes lo..hi at which the
// most values are exact, and fills e.mants and e.exc for it. Values that
// are not exact get the previous mantissa, so they cost little in the
// integer column, and are listed as exceptions.
func (e *Encoder) chooseDivisor(vs []float64, lo, hi byte) (byte, bool) {
	d := lo
	div, _ := divisor(d)
	for _, v := range vs {
		if _, ok := mantissa(v, div); ok {
			continue
		}
		for k := d + 1; k <= hi; k++ {
			kdiv, _ := divisor(k)
			if _, ok := mantissa(v, kdiv); ok {
				d, div = k, kdiv
				break
			}
		}
	}
	e.mants, e.exc = e.mants[:0], e.exc[:0]
	var prev int64
	for i, v := range vs {
		m, ok := mantissa(v, div)
		if !ok {
			e.exc = append(e.exc, i)
			m = prev
		}
		e.mants = append(e.mants, m)
		prev = m
	}
	return d, len(e.exc) < len(vs)
}

// appendPlanes stores the values' bits as 8 byte planes, most significant
// first: XORed with the previous value's bits (slowly changing values) or
// as they are (noisy values, whose sign and exponent bytes then repeat),
// whichever the byte statistics favour.
func appendPlanes(dst []byte, vs []float64) []byte {
	start := len(dst)
	dst = appendPlaneBits(append(dst, modeXOR), vs, true)
	xorCost := entropyBits(dst[start+1:], len(vs))
	mid := len(dst)
	dst = appendPlaneBits(append(dst, modeBits), vs, false)
	if entropyBits(dst[mid+1:], len(vs)) < xorCost {
		return append(dst[:start], dst[mid:]...)
	}
	return dst[:mid]
}

func appendPlaneBits(dst []byte, vs []float64, xor bool) []byte {
	for p := 7; p >= 0; p-- {
		shift := uint(8 * p)
		var prev uint64
		for _, v := range vs {
			b := math.Float64bits(v)
			dst = append(dst, byte((b^prev)>>shift))
			if xor {
				prev = b
			}
		}
	}
	return dst
}

// DecodeFloats decodes n values from b into dst (reusing its storage),
// using scratch for the mantissas, and returns them with the rest of b.
func DecodeFloats(b []byte, n int, dst []float64, scratch *[]int64) ([]float64, []byte, error) {
	dst = dst[:0]
	if n == 0 {
		return dst, b, nil
	}
	if err := checkColumn(b, n, "value"); err != nil {
		return dst, b, err
	}
	switch mode := b[0]; mode {
	case modeXOR, modeBits:
		b = b[1:]
		if len(b) < 8*n {
			return dst, b, fmt.Errorf("%w: %d values in %d bytes", ErrCorrupt, n, len(b))
		}
		dst = slices.Grow(dst, n)[:n]
		var prev uint64
		for i := range n {
			var x uint64
			for p := range 8 {
				x |= uint64(b[p*n+i]) << uint(8*(7-p))
			}
			if mode == modeXOR {
				x ^= prev
				prev = x
			}
			dst[i] = math.Float64frombits(x)
		}
		return dst, b[8*n:], nil
	case modeDecimal:
		if len(b) < 2 {
			return dst, b, fmt.Errorf("%w: truncated decimal column", ErrCorrupt)
		}
		div, ok := divisor(b[1])
		if !ok {
			return dst, b, fmt.Errorf("%w: divisor %d", ErrCorrupt, b[1])
		}
		ms, rest, err := DecodeInts(b[2:], n, *scratch)
		*scratch = ms
		if err != nil {
			return dst, b, err
		}
		dst = slices.Grow(dst, n)[:n]
		if div == 1 {
			for i, m := range ms {
				dst[i] = float64(m)
			}
		} else {
			for i, m := range ms {
				dst[i] = float64(m) / div
			}
		}
		r := reader{b: rest}
		nexc := r.uvarint()
		if r.err == nil && nexc > uint64(n) {
			r.err = fmt.Errorf("%w: %d exceptions in %d values", ErrCorrupt, nexc, n)
		}
		i := uint64(0)
		for k := uint64(0); k < nexc && r.err == nil; k++ {
			i += r.uvarint()
			bits := r.uint64le()
			if r.err == nil && i >= uint64(n) {
				r.err = fmt.Errorf("%w: exception at %d of %d", ErrCorrupt, i, n)
			}
			if r.err == nil {
				dst[i] = math.Float64frombits(bits)
			}
		}
		if r.err != nil {
			return dst[:0], b, r.err
		}
		return dst, r.b, nil
	}
	return dst, b, fmt.Errorf("%w: value mode %d", ErrCorrupt, b[0])
}
