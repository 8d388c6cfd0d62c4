package column

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
)

// ErrCorrupt reports a column that cannot be decoded.
var ErrCorrupt = errors.New("column: corrupt")

// Transforms applied to an integer array before its residuals are stored.
const (
	orderRaw   = 0 // x[i]
	orderDelta = 1 // x[i] - x[i-1]
	orderDod   = 2 // (x[i] - x[i-1]) - (x[i-1] - x[i-2])
	orderGrid  = 3 // x[i] - (x[0] + i*step)
)

// Layouts of the residuals.
const (
	layoutZero   = 0 // every residual is zero: nothing stored
	layoutVarint = 1 // zigzag varints
	layoutPlanes = 2 // varint minimum, width byte, then width byte planes of (r - min)
)

// maxInts bounds the length of a decoded array, so that corrupt input
// cannot ask for huge allocations.
const maxInts = 1 << 20

// AppendInts appends the encoding of xs to dst, reusing e's scratch space.
// The encoding does not record len(xs); DecodeInts must be told it.
func (e *Encoder) AppendInts(dst []byte, xs []int64) []byte {
	if len(xs) == 0 {
		return dst
	}
	return e.ints.append(dst, xs)
}

// intEncoder holds scratch space for choosing an encoding.
type intEncoder struct {
	res  []int64
	best []byte
	cand []byte
}

func (e *intEncoder) append(dst []byte, xs []int64) []byte {
	bestCost := math.Inf(1)
	e.best = e.best[:0]
	for _, order := range e.candidates(xs) {
		hdr, res := e.transform(order, xs)
		for _, layout := range []int{layoutZero, layoutVarint, layoutPlanes} {
			var cost float64
			e.cand, cost = appendResiduals(append(e.cand[:0], hdr...), layout, res)
			if cost < 0 {
				continue // layout does not apply
			}
			// The header is stored as is; every byte also costs a little
			// time to compress and decode, which breaks ties.
			cost += float64(len(hdr))*8 + float64(len(e.cand))*0.25
			if cost < bestCost {
				bestCost = cost
				e.best = append(e.best[:0], e.cand...)
			}
		}
	}
	return append(dst, e.best...)
}

// candidates returns the orders that apply to xs: the grid only to
// increasing arrays (timestamps, counters).
func (e *intEncoder) candidates(xs []int64) []int {
	switch len(xs) {
	case 1:
		return []int{orderRaw}
	case 2:
		return []int{orderRaw, orderDelta}
	}
	for i := 1; i < len(xs); i++ {
		if xs[i] <= xs[i-1] {
			return []int{orderRaw, orderDelta, orderDod}
		}
	}
	return []int{orderRaw, orderDelta, orderDod, orderGrid}
}

// transform computes the residuals of an order and the header that
// precedes them: the mode byte is filled in later by appendResiduals.
func (e *intEncoder) transform(order int, xs []int64) ([]byte, []int64) {
	hdr := []byte{byte(order)}
	res := e.res[:0]
	switch order {
	case orderRaw:
		res = append(res, xs...)
	case orderDelta:
		hdr = binary.AppendVarint(hdr, xs[0])
		for i := 1; i < len(xs); i++ {
			res = append(res, xs[i]-xs[i-1])
		}
	case orderDod:
		d1 := xs[1] - xs[0]
		hdr = binary.AppendVarint(hdr, xs[0])
		hdr = binary.AppendVarint(hdr, d1)
		prev := d1
		for i := 2; i < len(xs); i++ {
			d := xs[i] - xs[i-1]
			res = append(res, d-prev)
			prev = d
		}
	case orderGrid:
		step := medianStep(xs, &e.res)
		res = e.res[:0]
		hdr = binary.AppendVarint(hdr, xs[0])
		hdr = binary.AppendVarint(hdr, step)
		for i := 1; i < len(xs); i++ {
			res = append(res, xs[i]-(xs[0]+int64(i)*step))
		}
	}
	e.res = res
	return hdr, res
}

// medianStep returns the median difference between neighbours.
func medianStep(xs []int64, scratch *[]int64) int64 {
	ds := (*scratch)[:0]
	same := true
	for i := 1; i < len(xs); i++ {
		ds = append(ds, xs[i]-xs[i-1])
		same = same && ds[i-1] == ds[0]
	}
	*scratch = ds
	if !same {
		slices.Sort(ds)
	}
	return ds[len(ds)/2]
}

// appendResiduals appends the mode byte's layout and the residuals in
// that layout, and returns the estimated compressed size in bits, or a
// negative cost if the layout does not apply.
func appendResiduals(dst []byte, layout int, res []int64) ([]byte, float64) {
	dst[0] |= byte(layout) << 2 // dst starts with the header's mode byte
	switch layout {
	case layoutZero:
		for _, r := range res {
			if r != 0 {
				return dst, -1
			}
		}
		return dst, 0
	case layoutVarint:
		start := len(dst)
		for _, r := range res {
			dst = binary.AppendUvarint(dst, zigzag(r))
		}
		return dst, entropyBits(dst[start:], 1)
	default:
		mn, mx := res[0], res[0]
		for _, r := range res {
			mn, mx = min(mn, r), max(mx, r)
		}
		width := (bits.Len64(uint64(mx)-uint64(mn)) + 7) / 8
		dst = binary.AppendVarint(dst, mn)
		dst = append(dst, byte(width))
		start := len(dst)
		for p := range width {
			shift := uint(8 * p)
			for _, r := range res {
				dst = append(dst, byte((uint64(r)-uint64(mn))>>shift))
			}
		}
		return dst, entropyBits(dst[start:], len(res))
	}
}

// entropyBits estimates the compressed size of b: the order-0 entropy of
// each run of plane bytes, plus a small cost per distinct byte for the
// compressor's table.
func entropyBits(b []byte, plane int) float64 {
	if len(b) == 0 {
		return 0
	}
	if plane <= 1 {
		plane = len(b)
	}
	total := 0.0
	for start := 0; start < len(b); start += plane {
		p := b[start:min(start+plane, len(b))]
		var hist [256]int32
		for _, c := range p {
			hist[c]++
		}
		// n·H = n·log2(n) − Σ c·log2(c)
		total += xlog2x(len(p))
		distinct := 0
		for _, c := range hist {
			if c > 0 {
				total -= xlog2x(int(c))
				distinct++
			}
		}
		if distinct > 1 {
			total += float64(distinct) * 4
		}
	}
	return total
}

// xlog2x returns x·log2(x), from a table for small x.
func xlog2x(x int) float64 {
	if x < len(xlog2xTable) {
		return float64(xlog2xTable[x])
	}
	f := float64(x)
	return f * math.Log2(f)
}

var xlog2xTable = func() (t [1 << 14]float32) {
	for i := 1; i < len(t); i++ {
		t[i] = float32(float64(i) * math.Log2(float64(i)))
	}
	return t
}()

// DecodeInts decodes n integers from b into dst (reusing its storage) and
// returns them with the rest of b.
func DecodeInts(b []byte, n int, dst []int64) ([]int64, []byte, error) {
	dst = dst[:0]
	if n == 0 {
		return dst, b, nil
	}
	if err := checkColumn(b, n, "integer"); err != nil {
		return dst, b, err
	}
	mode := b[0]
	order, layout := int(mode&3), int(mode>>2)
	b = b[1:]
	d := reader{b: b}
	var x0, p int64 // p: first delta (dod) or step (grid)
	nres := n
	switch order {
	case orderDelta, orderGrid:
		x0 = d.varint()
		if order == orderGrid {
			p = d.varint()
		}
		nres = n - 1
	case orderDod:
		if n < 2 {
			return dst, b, fmt.Errorf("%w: delta-of-delta column of %d", ErrCorrupt, n)
		}
		x0, p = d.varint(), d.varint()
		nres = n - 2
	}
	if d.err != nil {
		return dst, b, d.err
	}
	dst = slices.Grow(dst, n)[:n]
	res := dst[n-nres:] // residuals are decoded in place, then integrated
	switch layout {
	case layoutZero:
		clear(res)
	case layoutVarint:
		p := d.b
		for i := range res {
			if len(p) > 0 && p[0] < 0x80 { // one byte: most residuals
				res[i] = unzigzag(uint64(p[0]))
				p = p[1:]
				continue
			}
			v, k := binary.Uvarint(p)
			if k <= 0 {
				return dst[:0], b, fmt.Errorf("%w: bad varint", ErrCorrupt)
			}
			res[i] = unzigzag(v)
			p = p[k:]
		}
		d.b = p
	case layoutPlanes:
		mn := d.varint()
		w := d.byte1()
		if d.err == nil && w > 8 {
			d.err = fmt.Errorf("%w: byte width %d", ErrCorrupt, w)
		}
		if d.err == nil && len(d.b) < int(w)*nres {
			d.err = fmt.Errorf("%w: %d planes of %d bytes in %d", ErrCorrupt, w, nres, len(d.b))
		}
		if d.err != nil {
			return dst[:0], b, d.err
		}
		decodePlanes(res, d.b, int(w), uint64(mn))
		d.b = d.b[int(w)*nres:]
	default:
		return dst[:0], b, fmt.Errorf("%w: integer layout %d", ErrCorrupt, layout)
	}
	if d.err != nil {
		return dst[:0], b, d.err
	}
	switch order {
	case orderDelta:
		dst[0] = x0
		for i := 1; i < n; i++ {
			dst[i] += dst[i-1]
		}
	case orderDod:
		dst[0], dst[1] = x0, x0+p
		delta := p
		for i := 2; i < n; i++ {
			delta += dst[i]
			dst[i] = dst[i-1] + delta
		}
	case orderGrid:
		dst[0] = x0
		for i := 1; i < n; i++ {
			dst[i] += x0 + int64(i)*p
		}
	}
	return dst, d.b, nil
}

// checkColumn rejects a column of n entries that cannot be decoded.
func checkColumn(b []byte, n int, what string) error {
	if n < 0 || n > maxInts {
		return fmt.Errorf("%w: %s column of %d entries", ErrCorrupt, what, n)
	}
	if len(b) == 0 {
		return fmt.Errorf("%w: empty %s column", ErrCorrupt, what)
	}
	return nil
}

// decodePlanes fills res from w byte planes, adding mn.
func decodePlanes(res []int64, planes []byte, w int, mn uint64) {
	n := len(res)
	switch w {
	case 0:
		for i := range res {
			res[i] = int64(mn)
		}
	case 1:
		p0 := planes[:n]
		for i := range res {
			res[i] = int64(mn + uint64(p0[i]))
		}
	case 2:
		p0, p1 := planes[:n], planes[n:2*n]
		for i := range res {
			res[i] = int64(mn + (uint64(p0[i]) | uint64(p1[i])<<8))
		}
	default:
		for i := range res {
			var u uint64
			for p := range w {
				u |= uint64(planes[p*n+i]) << uint(8*p)
			}
			res[i] = int64(mn + u)
		}
	}
}

// zigzag maps signed to unsigned integers so that small magnitudes are small.
func zigzag(v int64) uint64 { return uint64(v<<1) ^ uint64(v>>63) }

// unzigzag inverts zigzag.
func unzigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }
