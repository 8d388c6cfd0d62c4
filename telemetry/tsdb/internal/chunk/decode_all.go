package chunk

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"slices"
)

// Decoder decodes whole chunks into arrays, several times faster than
// stepping an Iterator: each field is cut from one 64-bit window of the
// stream. The zero value is ready to use; it keeps a scratch buffer.
type Decoder struct {
	buf []byte // the chunk's bit stream, padded with zero bytes
	pos uint   // next bit
}

// peek returns the next 64 bits of the stream, of which at least 57 are
// valid (the padding makes the load safe).
func (d *Decoder) peek() uint64 {
	return binary.BigEndian.Uint64(d.buf[d.pos>>3:]) << (d.pos & 7)
}

// read consumes n ≤ 56 bits (a shift by 64 gives 0, so n may be 0).
func (d *Decoder) read(n uint) uint64 {
	v := binary.BigEndian.Uint64(d.buf[d.pos>>3:]) << (d.pos & 7) >> (64 - n)
	d.pos += n
	return v
}

// readLong consumes n ≤ 64 bits.
func (d *Decoder) readLong(n uint) uint64 {
	if n <= 56 {
		return d.read(n)
	}
	hi := d.read(32)
	return hi<<(n-32) | d.read(n-32)
}

// bucket reads a value written by writeBucket.
func (d *Decoder) bucket(widths []int, zeroBit bool) uint64 {
	w := d.peek()
	if zeroBit {
		d.pos++
		if w>>63 == 0 {
			return 0
		}
		w <<= 1
	}
	last := len(widths) - 1
	i := min(bits.LeadingZeros64(^w), last)
	d.pos += uint(i)
	if i < last {
		d.pos++ // the terminating zero
	}
	z := d.readLong(uint(widths[i]))
	if zeroBit {
		z++
	}
	return z
}

// DecodeAll appends every sample of chunk b to ts and vs. On a corrupt
// chunk it returns an error and the arrays as they were.
func (d *Decoder) DecodeAll(b []byte, ts []int64, vs []float64) ([]int64, []float64, error) {
	if len(b) < headerSize {
		return ts, vs, fmt.Errorf("%w: %d-byte chunk has no header", ErrCorrupt, len(b))
	}
	n := int(binary.BigEndian.Uint16(b))
	d.buf = append(append(d.buf[:0], b[headerSize:]...), make([]byte, 16)...)
	d.pos = 0
	limit := uint(len(b)-headerSize) * 8
	ts0, vs0 := len(ts), len(vs)
	ts, vs = slices.Grow(ts, n), slices.Grow(vs, n)

	var (
		t, tDelta int64
		vBits     uint64
		leading   = uint(0xff)
		trailing  uint
		k         uint8
		valid     bool
		pm, pd    int64
	)
	var why string
	var i int
	for i = 0; i < n; i++ {
		switch i {
		case 0:
			t = int64(d.readLong(64))
		case 1:
			tDelta = unzigzag(d.bucket(tsWidths[:], true))
			t += tDelta
		default:
			if d.peek()>>63 == 0 { // the same step: one bit
				d.pos++
			} else {
				tDelta += unzigzag(d.bucket(tsWidths[:], true))
			}
			t += tDelta
		}
		w := d.peek()
		code := min(bits.LeadingZeros64(^w), 3)
		switch code {
		case 0, 1: // decimal at the current scale
			if !valid {
				why = "decimal delta before any decimal value"
				goto corrupt
			}
			if code == 0 {
				d.pos++
			} else if j := min(bits.LeadingZeros64(^(w << 2)), 3); j < 3 && dodWidths[j] <= 64-3-j-1-7 {
				// The whole code is in w: '10', j ones and a zero, the bits.
				width := uint(dodWidths[j])
				skip := uint(2 + j + 1)
				pd += unzigzag((w<<skip)>>(64-width) + 1)
				d.pos += skip + width
			} else {
				d.pos += 2
				pd += unzigzag(d.bucket(dodWidths[:], false) + 1)
			}
			pm += pd
		case 2: // decimal at a new scale
			d.pos += 3
			nk := uint8(d.read(4))
			if nk > maxScale || (valid && nk < k) {
				why = fmt.Sprintf("bad decimal scale %d after %d", nk, k)
				goto corrupt
			}
			z := d.bucket(dodWidths[:], false)
			if !valid {
				pm, pd, valid = unzigzag(z), 0, true
			} else {
				p := pow10i[nk-k]
				pm *= p
				pd = pd*p + unzigzag(z)
				pm += pd
			}
			k = nk
		case 3: // XOR float
			d.pos += 3
			w := d.peek()
			switch {
			case w>>63 == 0: // same value
				d.pos++
			case w>>62 == 2: // reuse the window
				d.pos += 2
				if leading == 0xff {
					why = "XOR window reused before it was set"
					goto corrupt
				}
				vBits ^= d.readLong(64-leading-trailing) << trailing
			default:
				d.pos += 2
				lead := uint(d.read(5))
				sig := uint(d.read(6)) + 1
				if lead+sig > 64 {
					why = fmt.Sprintf("XOR window of %d leading and %d significant bits", lead, sig)
					goto corrupt
				}
				leading, trailing = lead, 64-lead-sig
				vBits ^= d.readLong(sig) << trailing
			}
			if d.pos > limit {
				why = "bit stream truncated"
				goto corrupt
			}
			ts = append(ts, t)
			vs = append(vs, math.Float64frombits(vBits))
			continue
		}
		if d.pos > limit {
			why = "bit stream truncated"
			goto corrupt
		}
		v := decode(pm, k)
		vBits = math.Float64bits(v)
		ts = append(ts, t)
		vs = append(vs, v)
	}
	return ts, vs, nil
corrupt:
	return ts[:ts0], vs[:vs0], fmt.Errorf("%w: sample %d of %d: %s", ErrCorrupt, i, n, why)
}
