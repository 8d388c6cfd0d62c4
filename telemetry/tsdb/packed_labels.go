package tsdb

import (
	"encoding/binary"
	"fmt"
	"strings"
	"sync"
	"unsafe"
)

// A head series keeps its labels packed in one allocation, not as a
// []Label (32 bytes a label, and a size class above it): for each label
// in order, its name as uvarint(id+1) of a name in labelNames, or 0 then
// uvarint(len) and the bytes for a name not in it; then the value as
// uvarint(len) and the bytes. labels() unpacks them for readers; lookups
// compare and order the packed form directly.

// maxPackedLabels is the most bytes a series' packed labels may take.
const maxPackedLabels = 1<<16 - 1

// maxNames bounds the label-name dictionary: names past it are packed
// inline, so that a stream of ever-new names cannot grow it without end.
const maxNames = 4096

// labelNames is the process's dictionary of label names: append-only, an
// entry written before its id is handed out (under mu), so that a reader
// holding packed labels reads the entry without a lock.
var labelNames struct {
	mu    sync.Mutex
	ids   map[string]uint32 // guarded by mu
	names [maxNames]string
}

// nameID returns the dictionary id of name, adding it while there is
// room; ok is false when the dictionary is full.
func nameID(name string) (uint32, bool) {
	d := &labelNames
	d.mu.Lock()
	defer d.mu.Unlock()
	if id, ok := d.ids[name]; ok {
		return id, true
	}
	if d.ids == nil {
		d.ids = map[string]uint32{}
	}
	id := uint32(len(d.ids))
	if id >= maxNames {
		return 0, false
	}
	name = strings.Clone(name) // it may alias a caller's buffer
	d.names[id] = name
	d.ids[name] = id
	return id, true
}

// packLabels packs ls, or fails when they would take more than
// maxPackedLabels bytes.
func packLabels(ls Labels) ([]byte, error) { return pack(ls, nameID) }

// pack is packLabels with the dictionary lookup lookup.
func pack(ls Labels, lookup func(string) (uint32, bool)) ([]byte, error) {
	var buf [16]uint32
	refs := buf[:0] // a dictionary id + 1, or 0 for a name packed inline
	if len(ls) > len(buf) {
		refs = make([]uint32, 0, len(ls))
	}
	n := 0
	for _, l := range ls {
		ref := uint32(0)
		if id, ok := lookup(l.Name); ok {
			ref = id + 1
			n += uvarintLen(uint64(ref))
		} else {
			n += 1 + uvarintLen(uint64(len(l.Name))) + len(l.Name)
		}
		refs = append(refs, ref)
		n += uvarintLen(uint64(len(l.Value))) + len(l.Value)
	}
	if n > maxPackedLabels {
		return nil, fmt.Errorf("%d labels take %d bytes packed, more than the store's limit of %d", len(ls), n, maxPackedLabels)
	}
	b := make([]byte, 0, n)
	for i, l := range ls {
		b = binary.AppendUvarint(b, uint64(refs[i]))
		if refs[i] == 0 {
			b = binary.AppendUvarint(b, uint64(len(l.Name)))
			b = append(b, l.Name...)
		}
		b = binary.AppendUvarint(b, uint64(len(l.Value)))
		b = append(b, l.Value...)
	}
	return b, nil
}

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

// packedReader walks packed labels. The strings it returns share the
// packed bytes (immutable) or the dictionary.
type packedReader struct {
	b string
}

// next returns the next label; ok is false at the end. Packed labels are
// written by packLabels only, so a malformed one is a bug: it panics.
func (r *packedReader) next() (name, value string, ok bool) {
	if len(r.b) == 0 {
		return "", "", false
	}
	ref := r.uvarint()
	if ref == 0 {
		name = r.bytes(r.uvarint())
	} else {
		name = labelNames.names[ref-1]
	}
	value = r.bytes(r.uvarint())
	return name, value, true
}

func (r *packedReader) uvarint() uint64 {
	if c := r.b[0]; c < 0x80 { // almost always: names and values under 128 bytes
		r.b = r.b[1:]
		return uint64(c)
	}
	var x uint64
	var shift uint
	for i := 0; ; i++ {
		c := r.b[i]
		if c < 0x80 {
			r.b = r.b[i+1:]
			return x | uint64(c)<<shift
		}
		x |= uint64(c&0x7f) << shift
		shift += 7
	}
}

func (r *packedReader) bytes(n uint64) string {
	s := r.b[:n]
	r.b = r.b[n:]
	return s
}

// packed returns the series' packed labels as a string sharing them.
func (s *memSeries) packed() string {
	return unsafe.String(s.lsetPtr, s.lsetLen)
}

// labels returns the series' labels, unpacked into a new slice whose
// strings share the packed bytes.
func (s *memSeries) labels() Labels {
	r := packedReader{s.packed()}
	n := 0
	for _, _, ok := r.next(); ok; _, _, ok = r.next() {
		n++
	}
	out := make(Labels, 0, n)
	r = packedReader{s.packed()}
	for name, value, ok := r.next(); ok; name, value, ok = r.next() {
		out = append(out, Label{name, value})
	}
	return out
}

// labelsEqual reports whether the series' labels are ls, without
// unpacking them.
func (s *memSeries) labelsEqual(ls Labels) bool {
	r := packedReader{s.packed()}
	for _, l := range ls {
		name, value, ok := r.next()
		if !ok || name != l.Name || value != l.Value {
			return false
		}
	}
	return len(r.b) == 0
}

// compareLabels orders two series as Compare orders their labels,
// without unpacking them.
func compareLabels(a, b *memSeries) int {
	ra, rb := packedReader{a.packed()}, packedReader{b.packed()}
	for {
		an, av, aok := ra.next()
		bn, bv, bok := rb.next()
		switch {
		case !aok && !bok:
			return 0
		case !aok:
			return -1
		case !bok:
			return 1
		}
		if c := strings.Compare(an, bn); c != 0 {
			return c
		}
		if c := strings.Compare(av, bv); c != 0 {
			return c
		}
	}
}
