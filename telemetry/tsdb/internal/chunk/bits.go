package chunk

import (
	"encoding/binary"
	"errors"
)

// errShort reports a bit stream that ended before a sample was complete.
var errShort = errors.New("chunk: bit stream truncated")

// writeBits appends the n low bits of v (n ≤ 64) to the chunk, most
// significant first: what fits in the last byte, then whole bytes, then
// the rest at the top of a new byte.
func (w *Encoder) writeBits(v uint64, n int) {
	if n < 64 {
		v &= 1<<uint(n) - 1
	}
	if w.used != 0 {
		free := 8 - int(w.used)
		if n <= free {
			w.b[len(w.b)-1] |= byte(v << uint(free-n))
			w.used = uint8((int(w.used) + n) & 7)
			return
		}
		n -= free
		w.b[len(w.b)-1] |= byte(v >> uint(n))
		w.used = 0
	}
	for n >= 8 {
		n -= 8
		w.grow()
		w.b = append(w.b, byte(v>>uint(n)))
	}
	if n > 0 {
		w.grow()
		w.b = append(w.b, byte(v<<uint(8-n)))
		w.used = uint8(n)
	}
}

// grow makes room for one more byte. Past 256 bytes it grows by an eighth
// rather than append's doubling: head chunks are long-lived, and the slack
// of a doubled buffer would be a quarter of the head's chunk memory. Below,
// append's steps follow the allocator's size classes, which waste less.
func (w *Encoder) grow() {
	if len(w.b) < cap(w.b) || cap(w.b) < 256 {
		return
	}
	b := make([]byte, len(w.b), len(w.b)+max(len(w.b)/8, 16))
	copy(b, w.b)
	w.b = b
}

// bitReader reads bits written by Encoder.writeBits.
type bitReader struct {
	b   []byte
	pos uint64 // next bit to read
}

// readBits reads n bits (n ≤ 64) as the low bits of the result.
func (r *bitReader) readBits(n int) (uint64, error) {
	if n == 0 {
		return 0, nil
	}
	if off := r.pos >> 3; n <= 56 && off+8 <= uint64(len(r.b)) {
		// Fast path: one 8-byte load holds the n bits.
		w := binary.BigEndian.Uint64(r.b[off:])
		v := (w << (r.pos & 7)) >> (64 - uint(n))
		r.pos += uint64(n)
		return v, nil
	}
	if r.pos+uint64(n) > uint64(len(r.b))*8 {
		return 0, errShort
	}
	var v uint64
	for n > 0 {
		off := int(r.pos & 7)
		avail := 8 - off
		take := min(avail, n)
		cur := uint64(r.b[r.pos>>3]) >> uint(avail-take)
		cur &= 1<<uint(take) - 1
		v = v<<uint(take) | cur
		n -= take
		r.pos += uint64(take)
	}
	return v, nil
}

// readBit reads one bit.
func (r *bitReader) readBit() (bool, error) {
	if r.pos >= uint64(len(r.b))*8 {
		return false, errShort
	}
	bit := r.b[r.pos>>3]>>(7-uint(r.pos&7))&1 == 1
	r.pos++
	return bit, nil
}

// readUnary counts leading one bits, up to max, consuming the terminating
// zero when fewer than max ones are present.
func (r *bitReader) readUnary(max int) (int, error) {
	n := 0
	for n < max {
		bit, err := r.readBit()
		if err != nil {
			return 0, err
		}
		if !bit {
			return n, nil
		}
		n++
	}
	return n, nil
}

// zigzag maps signed to unsigned integers so that small magnitudes are small.
func zigzag(v int64) uint64 { return uint64(v<<1) ^ uint64(v>>63) }

// unzigzag inverts zigzag.
func unzigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }
