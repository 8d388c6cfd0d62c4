package tsdb

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// Pages of a v2 chunks file. Column records (a chunk's timestamps, or its
// values) are gathered into pages of about pageSize bytes, and each page
// is compressed with zstd as a whole, so that the statistics of many
// similar series are shared. On disk a page is
//
//	rawLen uvarint | compLen uvarint | zstd frame (compLen bytes) | crc32c(frame) uint32 LE
//
// and a record inside the raw page is `len uvarint | bytes`. A record's
// reference is the page's number (pages are numbered in file order from
// 0) << refPageShift | the record's offset in the raw page. Small numbers
// keep the index small; readers find the pages by walking their headers
// when they open the block.
const (
	pageSize      = 64 << 10
	refPageShift  = 18
	maxPageRaw    = 1 << refPageShift
	maxRecordSize = maxPageRaw - pageSize
)

var (
	zstdEncoder, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedBestCompression),
		zstd.WithEncoderCRC(false), zstd.WithEncoderConcurrency(1), zstd.WithLowerEncoderMem(true))
	zstdDecoder, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(maxPageRaw))
)

// pageStream gathers records into pages. A block writer keeps two, one for
// timestamp columns and one for values, so that the timestamp columns that
// many series share sit together in few pages.
type pageStream struct {
	raw []byte
	seq int // sequence number of the open page in the writer
}

// pendingRef is a record reference whose page has not been placed yet.
type pendingRef struct {
	page int    // sequence number of the page
	off  uint32 // offset in the raw page
}

// pageWriter writes the pages of one chunks file.
type pageWriter struct {
	w       *bufio.Writer
	off     uint64   // file offset of the next page
	written uint64   // pages written
	placed  []uint64 // number in the file of each page, by sequence number
	streams [2]pageStream
	dedup   map[[16]byte]*pendingRef
	crc     [4]byte
	comp    []byte
}

func newPageWriter(w *bufio.Writer, off uint64) *pageWriter {
	p := &pageWriter{w: w, off: off, dedup: map[[16]byte]*pendingRef{}}
	for i := range p.streams {
		p.streams[i].seq = p.newPage()
	}
	return p
}

func (p *pageWriter) newPage() int {
	p.placed = append(p.placed, 0)
	return len(p.placed) - 1
}

// add stores a record in stream s, or finds an identical one already
// stored in the block, and returns its reference.
func (p *pageWriter) add(s int, rec []byte) (*pendingRef, error) {
	if len(rec) > maxRecordSize {
		return nil, fmt.Errorf("column record of %d bytes is too large", len(rec))
	}
	h := sha256.New()
	h.Write([]byte{byte(s)})
	h.Write(rec)
	var key [16]byte
	copy(key[:], h.Sum(nil))
	if ref, ok := p.dedup[key]; ok {
		return ref, nil
	}
	st := &p.streams[s]
	if len(st.raw) > 0 && len(st.raw)+len(rec)+binary.MaxVarintLen32 > min(pageSize, maxPageRaw-len(rec)-binary.MaxVarintLen32) {
		if err := p.flush(s); err != nil {
			return nil, err
		}
	}
	ref := &pendingRef{page: st.seq, off: uint32(len(st.raw))}
	st.raw = binary.AppendUvarint(st.raw, uint64(len(rec)))
	st.raw = append(st.raw, rec...)
	p.dedup[key] = ref
	return ref, nil
}

// flush compresses and writes stream s's open page and opens another.
func (p *pageWriter) flush(s int) error {
	st := &p.streams[s]
	if len(st.raw) == 0 {
		return nil
	}
	p.comp = zstdEncoder.EncodeAll(st.raw, p.comp[:0])
	var hdr [2 * binary.MaxVarintLen64]byte
	n := binary.PutUvarint(hdr[:], uint64(len(st.raw)))
	n += binary.PutUvarint(hdr[n:], uint64(len(p.comp)))
	binary.LittleEndian.PutUint32(p.crc[:], crc32.Checksum(p.comp, castagnoli))
	p.w.Write(hdr[:n])
	p.w.Write(p.comp)
	if _, err := p.w.Write(p.crc[:]); err != nil {
		return fmt.Errorf("write chunks: %w", storageErr(err))
	}
	p.placed[st.seq] = p.written
	p.written++
	p.off += uint64(n + len(p.comp) + 4)
	st.raw = st.raw[:0]
	st.seq = p.newPage()
	return nil
}

// finish flushes both streams.
func (p *pageWriter) finish() error {
	for s := range p.streams {
		if err := p.flush(s); err != nil {
			return err
		}
	}
	return nil
}

// resolve turns a pending reference into a file reference; every page
// must have been flushed.
func (p *pageWriter) resolve(r *pendingRef) uint64 {
	return p.placed[r.page]<<refPageShift | uint64(r.off)
}

// pageCache keeps recently decompressed pages of every open block, up to
// a byte budget, least recently used first out.
type pageCache struct {
	mu     sync.Mutex
	budget int
	size   int
	pages  map[pageKey]*cachedPage
	head   cachedPage // sentinel of the recency list; head.next is newest
}

type pageKey struct {
	b   *block
	off uint64
}

type cachedPage struct {
	key        pageKey
	data       []byte
	prev, next *cachedPage
}

func newPageCache(budget int) *pageCache {
	c := &pageCache{budget: budget, pages: map[pageKey]*cachedPage{}}
	c.head.prev, c.head.next = &c.head, &c.head
	return c
}

func (c *pageCache) get(k pageKey) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.pages[k]
	if p == nil {
		return nil
	}
	c.unlink(p)
	c.pushFront(p)
	return p.data
}

func (c *pageCache) put(k pageKey, data []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.pages[k]; ok {
		return
	}
	p := &cachedPage{key: k, data: data}
	c.pages[k] = p
	c.pushFront(p)
	c.size += cap(data)
	for c.size > c.budget && c.head.prev != p {
		old := c.head.prev
		c.unlink(old)
		delete(c.pages, old.key)
		c.size -= cap(old.data)
	}
}

// drop forgets a block's pages.
func (c *pageCache) drop(b *block) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, p := range c.pages {
		if k.b == b {
			c.unlink(p)
			delete(c.pages, k)
			c.size -= cap(p.data)
		}
	}
}

func (c *pageCache) unlink(p *cachedPage) {
	p.prev.next, p.next.prev = p.next, p.prev
}

func (c *pageCache) pushFront(p *cachedPage) {
	p.prev, p.next = &c.head, c.head.next
	c.head.next.prev = p
	c.head.next = p
}

// pageOffsets walks the pages of a v2 chunks file and returns their offsets.
func pageOffsets(data []byte, start uint64) ([]uint64, error) {
	var offs []uint64
	for off := start; off < uint64(len(data)); {
		rawLen, n1 := binary.Uvarint(data[off:])
		if n1 <= 0 {
			return nil, fmt.Errorf("%w: page at %d has a bad header", ErrCorruptBlock, off)
		}
		compLen, n2 := binary.Uvarint(data[off+uint64(n1):])
		next := off + uint64(n1) + uint64(max(n2, 0)) + compLen + 4
		if n2 <= 0 || rawLen > maxPageRaw || compLen > uint64(len(data)) || next > uint64(len(data)) {
			return nil, fmt.Errorf("%w: page at %d has a bad length", ErrCorruptBlock, off)
		}
		offs = append(offs, off)
		off = next
	}
	return offs, nil
}
