package tsdb

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"sync"
)

// block is an open, immutable persisted block.
type block struct {
	dir    string
	meta   BlockMeta
	index  *blockIndex
	ixFile *mappedFile
	chFile *mappedFile
	cache  *pageCache // v2 pages; may be nil
	pages  []uint64   // v2: file offset of each page

	readers sync.WaitGroup // queriers using the block
}

// openBlock maps a block's files and parses its index. Decompressed pages
// of a v2 block are kept in cache.
func openBlock(dir string, cache *pageCache) (*block, error) {
	meta, err := readMeta(dir)
	if err != nil {
		return nil, fmt.Errorf("open block %s: %w", filepath.Base(dir), err)
	}
	ixFile, err := openMapped(filepath.Join(dir, indexFile))
	if err != nil {
		return nil, fmt.Errorf("open block %s: %w", meta.ID, err)
	}
	ix, err := parseIndex(ixFile.b, meta.MinTime, meta.MaxTime, meta.Version)
	if err != nil {
		ixFile.Close()
		return nil, fmt.Errorf("open block %s: %w", meta.ID, err)
	}
	chFile, err := openMapped(filepath.Join(dir, chunksFile))
	if err != nil {
		ixFile.Close()
		return nil, fmt.Errorf("open block %s: %w", meta.ID, err)
	}
	magic := chunksMagic
	if meta.Version >= 2 {
		magic = chunksMagicV2
	}
	if len(chFile.b) < len(magic) || string(chFile.b[:len(magic)]) != magic {
		ixFile.Close()
		chFile.Close()
		return nil, fmt.Errorf("open block %s: %w: chunks file has a bad header", meta.ID, ErrCorruptBlock)
	}
	b := &block{dir: dir, meta: meta, index: ix, ixFile: ixFile, chFile: chFile, cache: cache}
	if meta.Version >= 2 {
		if b.pages, err = pageOffsets(chFile.b, uint64(len(magic))); err != nil {
			ixFile.Close()
			chFile.Close()
			return nil, fmt.Errorf("open block %s: %w", meta.ID, err)
		}
	}
	return b, nil
}

// page returns decompressed v2 page number no, checking its CRC when it is
// first read.
func (b *block) page(no uint64) ([]byte, error) {
	if no >= uint64(len(b.pages)) {
		return nil, fmt.Errorf("%w: block %s: page %d of %d", ErrCorruptBlock, b.meta.ID, no, len(b.pages))
	}
	off := b.pages[no]
	k := pageKey{b, off}
	if b.cache != nil {
		if p := b.cache.get(k); p != nil {
			return p, nil
		}
	}
	data := b.chFile.b
	bad := func(what string) error {
		return fmt.Errorf("%w: block %s: page %d %s", ErrCorruptBlock, b.meta.ID, off, what)
	}
	if off >= uint64(len(data)) {
		return nil, bad("is beyond the file")
	}
	rawLen, n1 := binary.Uvarint(data[off:])
	if n1 <= 0 {
		return nil, bad("has a bad header")
	}
	compLen, n2 := binary.Uvarint(data[off+uint64(n1):])
	start := off + uint64(n1) + uint64(max(n2, 0))
	if n2 <= 0 || rawLen > maxPageRaw || compLen > uint64(len(data)) || start+compLen+4 > uint64(len(data)) {
		return nil, bad("has a bad length")
	}
	comp := data[start : start+compLen]
	if crc32.Checksum(comp, castagnoli) != binary.LittleEndian.Uint32(data[start+compLen:]) {
		return nil, bad("fails its checksum")
	}
	p, err := zstdDecoder.DecodeAll(comp, make([]byte, 0, rawLen))
	if err != nil || uint64(len(p)) != rawLen {
		return nil, bad(fmt.Sprintf("does not decompress (%v)", err))
	}
	if b.cache != nil {
		b.cache.put(k, p)
	}
	return p, nil
}

// record returns the v2 column record at ref.
func (b *block) record(ref uint64) ([]byte, error) {
	p, err := b.page(ref >> refPageShift)
	if err != nil {
		return nil, err
	}
	off := ref & (1<<refPageShift - 1)
	if off >= uint64(len(p)) {
		return nil, fmt.Errorf("%w: block %s: record %d beyond its page", ErrCorruptBlock, b.meta.ID, ref)
	}
	size, n := binary.Uvarint(p[off:])
	if n <= 0 || size > uint64(len(p)) || off+uint64(n)+size > uint64(len(p)) {
		return nil, fmt.Errorf("%w: block %s: record %d has a bad length", ErrCorruptBlock, b.meta.ID, ref)
	}
	return p[off+uint64(n) : off+uint64(n)+size], nil
}

// chunk returns the data of the chunk at ref after checking its CRC.
func (b *block) chunk(ref uint64) ([]byte, error) {
	data := b.chFile.b
	if ref >= uint64(len(data)) {
		return nil, fmt.Errorf("%w: block %s: chunk ref %d beyond %d bytes", ErrCorruptBlock, b.meta.ID, ref, len(data))
	}
	size, n := binary.Uvarint(data[ref:])
	start := ref + uint64(n)
	if n <= 0 || size > uint64(len(data)) || start+size+4 > uint64(len(data)) {
		return nil, fmt.Errorf("%w: block %s: chunk %d has a bad length", ErrCorruptBlock, b.meta.ID, ref)
	}
	c := data[start : start+size]
	if crc32.Checksum(c, castagnoli) != binary.LittleEndian.Uint32(data[start+size:]) {
		return nil, fmt.Errorf("%w: block %s: chunk %d fails its checksum", ErrCorruptBlock, b.meta.ID, ref)
	}
	return c, nil
}

// chunks loads the chunks of one kind that overlap [mint, maxt].
func (b *block) chunks(metas []chunkMeta, kind byte, mint, maxt int64) ([]chunkData, error) {
	var out []chunkData
	for _, m := range metas {
		if m.kind != kind || m.maxT < mint || m.minT > maxt {
			continue
		}
		c, err := b.load(m)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// load reads one chunk: its bit stream (v1) or its two column records (v2).
func (b *block) load(m chunkMeta) (chunkData, error) {
	c := chunkData{minT: m.minT, maxT: m.maxT}
	var err error
	if b.meta.Version < 2 {
		c.data, err = b.chunk(m.ref)
		return c, err
	}
	if c.ts, err = b.record(m.tsRef); err == nil {
		c.vals, err = b.record(m.ref)
	}
	return c, err
}

// close unmaps the block's files once no querier uses it.
func (b *block) close() error {
	b.readers.Wait()
	if b.cache != nil {
		b.cache.drop(b)
	}
	err := b.ixFile.Close()
	if cerr := b.chFile.Close(); err == nil {
		err = cerr
	}
	return err
}

// remove closes the block and deletes its directory.
func (b *block) remove() error {
	if err := b.close(); err != nil {
		return err
	}
	if err := os.RemoveAll(b.dir); err != nil {
		return fmt.Errorf("delete block %s: %w", b.meta.ID, err)
	}
	return nil
}
