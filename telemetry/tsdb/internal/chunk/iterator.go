package chunk

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// ErrCorrupt reports a chunk that cannot be decoded.
var ErrCorrupt = errors.New("chunk: corrupt")

// Count returns the number of samples in an encoded chunk.
func Count(b []byte) int {
	if len(b) < headerSize {
		return 0
	}
	return int(binary.BigEndian.Uint16(b))
}

// Iterator decodes a chunk. The zero value is an exhausted iterator; Reset
// points it at a chunk. It does not allocate.
type Iterator struct {
	r      bitReader
	n, i   int
	t      int64
	tDelta int64
	v      float64
	err    error

	vBits    uint64
	leading  uint8
	trailing uint8
	k        uint8
	valid    bool
	pm, pd   int64
}

// Reset starts decoding b.
func (it *Iterator) Reset(b []byte) {
	*it = Iterator{leading: 0xff}
	if len(b) < headerSize {
		it.err = fmt.Errorf("%w: %d-byte chunk has no header", ErrCorrupt, len(b))
		return
	}
	it.n = int(binary.BigEndian.Uint16(b))
	it.r = bitReader{b: b, pos: headerSize * 8}
}

// Next advances to the next sample.
func (it *Iterator) Next() bool {
	if it.err != nil || it.i >= it.n {
		return false
	}
	if err := it.decode(); err != nil {
		it.err = fmt.Errorf("%w: sample %d of %d: %w", ErrCorrupt, it.i, it.n, err)
		return false
	}
	it.i++
	return true
}

// SeekTime advances to the first sample with timestamp ≥ t; it does not move
// backwards.
func (it *Iterator) SeekTime(t int64) bool {
	if it.i > 0 && it.t >= t {
		return true
	}
	for it.Next() {
		if it.t >= t {
			return true
		}
	}
	return false
}

// At returns the current sample.
func (it *Iterator) At() (int64, float64) { return it.t, it.v }

// Err returns the decoding error, if any.
func (it *Iterator) Err() error { return it.err }

func (it *Iterator) decode() error {
	switch it.i {
	case 0:
		t, err := it.r.readBits(64)
		if err != nil {
			return err
		}
		it.t = int64(t)
	case 1:
		z, err := readBucket(&it.r, tsWidths[:], true)
		if err != nil {
			return err
		}
		it.tDelta = unzigzag(z)
		it.t += it.tDelta
	default:
		z, err := readBucket(&it.r, tsWidths[:], true)
		if err != nil {
			return err
		}
		it.tDelta += unzigzag(z)
		it.t += it.tDelta
	}
	return it.decodeValue()
}

func (it *Iterator) decodeValue() error {
	code, err := it.r.readUnary(3)
	if err != nil {
		return err
	}
	switch code {
	case 0, 1: // '0' or '10': decimal at the current scale
		if !it.valid {
			return errors.New("decimal delta before any decimal value")
		}
		var dod int64
		if code == 1 {
			z, err := readBucket(&it.r, dodWidths[:], false)
			if err != nil {
				return err
			}
			dod = unzigzag(z + 1)
		}
		it.pd += dod
		it.pm += it.pd
	case 2: // '110': decimal at a new scale
		k, err := it.r.readBits(4)
		if err != nil {
			return err
		}
		if k > maxScale || (it.valid && uint8(k) < it.k) {
			return fmt.Errorf("bad decimal scale %d after %d", k, it.k)
		}
		z, err := readBucket(&it.r, dodWidths[:], false)
		if err != nil {
			return err
		}
		if !it.valid {
			it.pm, it.pd, it.valid = unzigzag(z), 0, true
		} else {
			p := pow10i[uint8(k)-it.k]
			it.pm *= p
			it.pd = it.pd*p + unzigzag(z)
			it.pm += it.pd
		}
		it.k = uint8(k)
	case 3: // '111': XOR float
		if err := it.decodeXOR(); err != nil {
			return err
		}
		it.v = math.Float64frombits(it.vBits)
		return nil
	}
	it.v = decode(it.pm, it.k)
	it.vBits = math.Float64bits(it.v)
	return nil
}

func (it *Iterator) decodeXOR() error {
	bit, err := it.r.readBit()
	if err != nil || !bit {
		return err // '0': same value
	}
	bit, err = it.r.readBit()
	if err != nil {
		return err
	}
	if !bit { // '10': reuse the window
		if it.leading == 0xff {
			return errors.New("XOR window reused before it was set")
		}
		x, err := it.r.readBits(64 - int(it.leading) - int(it.trailing))
		if err != nil {
			return err
		}
		it.vBits ^= x << it.trailing
		return nil
	}
	lead, err := it.r.readBits(5)
	if err != nil {
		return err
	}
	sig, err := it.r.readBits(6)
	if err != nil {
		return err
	}
	sig++
	if int(lead)+int(sig) > 64 {
		return fmt.Errorf("XOR window of %d leading and %d significant bits", lead, sig)
	}
	it.leading, it.trailing = uint8(lead), uint8(64-lead-sig)
	x, err := it.r.readBits(int(sig))
	if err != nil {
		return err
	}
	it.vBits ^= x << it.trailing
	return nil
}

// readBucket reads a value written by writeBucket.
func readBucket(r *bitReader, widths []int, zeroBit bool) (uint64, error) {
	if zeroBit {
		bit, err := r.readBit()
		if err != nil || !bit {
			return 0, err
		}
	}
	i, err := r.readUnary(len(widths) - 1)
	if err != nil {
		return 0, err
	}
	z, err := r.readBits(widths[i])
	if err != nil {
		return 0, err
	}
	if zeroBit {
		z++
	}
	return z, nil
}
