package tsdb

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"
	"sort"

	"github.com/RoaringBitmap/roaring/v2"
)

// blockIndex is a parsed index file. It keeps the file's bytes and decodes
// series and postings on demand.
type blockIndex struct {
	b          []byte
	mint, maxt int64 // the block's range
	version    int
	symbols    []string
	table      []byte // offsets of each series: 8 bytes (v1) or 4 (v2)
	width      uint64 // bytes per table entry
	n          int
	postingDir map[string][]postingEntry // sorted by value
	all        *roaring.Bitmap
}

// postingEntry locates one value's bitmap.
type postingEntry struct {
	value string
	off   uint32
	len   uint32
}

// parseIndex checks an index file's CRC and parses its directory.
func parseIndex(b []byte, mint, maxt int64, version int) (*blockIndex, error) {
	magic := indexMagic
	if version >= 2 {
		magic = indexMagicV2
	}
	if len(b) < len(magic)+tocSize+4 || string(b[:len(magic)]) != magic {
		return nil, fmt.Errorf("%w: index: bad magic or too short (%d bytes)", ErrCorruptBlock, len(b))
	}
	body := b[:len(b)-4]
	if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(b[len(b)-4:]) {
		return nil, fmt.Errorf("%w: index: checksum mismatch", ErrCorruptBlock)
	}
	toc := body[len(body)-tocSize:]
	var offs [5]uint64
	for i := range offs {
		offs[i] = binary.LittleEndian.Uint64(toc[i*8:])
	}
	symbolsOff, seriesOff, tableOff, n, postingsOff := offs[0], offs[1], offs[2], offs[3], offs[4]
	end := uint64(len(body) - tocSize)
	width := uint64(8)
	if version >= 2 {
		width = 4
	}
	if !(symbolsOff <= seriesOff && seriesOff <= tableOff && tableOff <= postingsOff && postingsOff <= end) ||
		n > (postingsOff-tableOff)/width || (postingsOff-tableOff) != n*width {
		return nil, fmt.Errorf("%w: index: bad table of contents", ErrCorruptBlock)
	}
	ix := &blockIndex{b: b, mint: mint, maxt: maxt, version: version, n: int(n), width: width, table: b[tableOff:postingsOff], postingDir: map[string][]postingEntry{}}
	d := recordDecoder{b: b[symbolsOff:seriesOff]}
	count := d.uvarint()
	if count > uint64(len(d.b)) {
		return nil, fmt.Errorf("%w: index: %d symbols in %d bytes", ErrCorruptBlock, count, len(d.b))
	}
	ix.symbols = make([]string, 0, count)
	for i := uint64(0); i < count && d.err == nil; i++ {
		ix.symbols = append(ix.symbols, string(d.bytes(d.uvarint())))
	}
	if d.err != nil {
		return nil, fmt.Errorf("%w: index symbols: %w", ErrCorruptBlock, d.err)
	}
	d = recordDecoder{b: b[postingsOff:end]}
	names := d.uvarint()
	for i := uint64(0); i < names && d.err == nil; i++ {
		name := ix.symbol(&d)
		nv := d.uvarint()
		if nv > uint64(len(d.b)) {
			return nil, fmt.Errorf("%w: index: %d values in %d bytes", ErrCorruptBlock, nv, len(d.b))
		}
		entries := make([]postingEntry, 0, nv)
		for j := uint64(0); j < nv && d.err == nil; j++ {
			value := ix.symbol(&d)
			size := d.uvarint()
			start := end - uint64(len(d.b))
			d.bytes(size)
			if start > math.MaxUint32 || size > math.MaxUint32 {
				return nil, fmt.Errorf("%w: index: postings beyond 4 GiB", ErrCorruptBlock)
			}
			entries = append(entries, postingEntry{value, uint32(start), uint32(size)})
		}
		ix.postingDir[name] = entries
	}
	if d.err != nil {
		return nil, fmt.Errorf("%w: index postings: %w", ErrCorruptBlock, d.err)
	}
	ix.all = roaring.New()
	ix.all.AddRange(0, n)
	return ix, nil
}

// symbol reads a symbol reference.
func (ix *blockIndex) symbol(d *recordDecoder) string {
	i := d.uvarint()
	if d.err != nil {
		return ""
	}
	if i >= uint64(len(ix.symbols)) {
		d.err = fmt.Errorf("symbol %d out of %d", i, len(ix.symbols))
		return ""
	}
	return ix.symbols[i]
}

// series decodes the labels and chunk metas of series ord.
func (ix *blockIndex) series(ord uint32) (Labels, []chunkMeta, error) {
	if int(ord) >= ix.n {
		return nil, nil, fmt.Errorf("%w: series %d of %d", ErrCorruptBlock, ord, ix.n)
	}
	var off uint64
	if ix.width == 4 {
		off = uint64(binary.LittleEndian.Uint32(ix.table[ord*4:]))
	} else {
		off = binary.LittleEndian.Uint64(ix.table[ord*8:])
	}
	if off >= uint64(len(ix.b)) {
		return nil, nil, fmt.Errorf("%w: series %d at offset %d", ErrCorruptBlock, ord, off)
	}
	d := recordDecoder{b: ix.b[off:]}
	nl := d.uvarint()
	if nl > uint64(len(d.b)) {
		return nil, nil, fmt.Errorf("%w: series %d has %d labels", ErrCorruptBlock, ord, nl)
	}
	ls := make(Labels, 0, nl)
	for i := uint64(0); i < nl && d.err == nil; i++ {
		name := ix.symbol(&d)
		value := ix.symbol(&d)
		ls = append(ls, Label{name, value})
	}
	nc := d.uvarint()
	if nc > uint64(len(d.b)) {
		return nil, nil, fmt.Errorf("%w: series %d has %d chunks", ErrCorruptBlock, ord, nc)
	}
	metas := make([]chunkMeta, 0, nc)
	for i := uint64(0); i < nc && d.err == nil; i++ {
		kind := d.bytes(1)
		if d.err != nil {
			break
		}
		m := chunkMeta{kind: kind[0]}
		m.minT = ix.mint + d.varint()
		if ix.version >= 2 {
			m.maxT = ix.maxt - 1 - d.varint()
			m.tsRef = d.uvarint()
		} else {
			m.maxT = m.minT + int64(d.uvarint())
		}
		m.ref = d.uvarint()
		metas = append(metas, m)
	}
	if d.err != nil {
		return nil, nil, fmt.Errorf("%w: series %d: %w", ErrCorruptBlock, ord, d.err)
	}
	return ls, metas, nil
}

// The indexReader methods.

func (ix *blockIndex) postings(name, value string) (bm *roaring.Bitmap) {
	entries := ix.postingDir[name]
	i := sort.Search(len(entries), func(i int) bool { return entries[i].value >= value })
	if i == len(entries) || entries[i].value != value {
		return nil
	}
	e := entries[i]
	defer func() {
		if recover() != nil { // a checksummed index should never get here
			bm = nil
		}
	}()
	bm = roaring.New()
	if _, err := bm.FromBuffer(ix.b[e.off : e.off+e.len]); err != nil {
		return nil
	}
	return bm
}

func (ix *blockIndex) labelValues(name string) []string {
	entries := ix.postingDir[name]
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = e.value
	}
	return out
}

func (ix *blockIndex) labelNames() []string {
	out := make([]string, 0, len(ix.postingDir))
	for n := range ix.postingDir {
		out = append(out, n)
	}
	return out
}

func (ix *blockIndex) allPostings() *roaring.Bitmap { return ix.all }
