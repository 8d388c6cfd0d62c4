package tsdb

import (
	"bufio"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/gaffer-sre/gaffer/telemetry/tsdb/internal/column"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// pendingChunk holds the samples of one chunk waiting to be written.
type pendingChunk struct {
	kind       byte
	minT, maxT int64
	ts         []int64
	vs         []float64
}

// blockWriter writes one block into a temporary directory and publishes it
// atomically by renaming. Series must be added in label order.
type blockWriter struct {
	parent string
	tmp    string
	meta   BlockMeta

	cf     *os.File
	cw     *bufio.Writer
	pages  *pageWriter
	enc    column.Encoder
	rec    []byte
	series []writtenSeries
	last   Labels
}

type writtenSeries struct {
	lset   Labels
	chunks []writtenChunk
}

// writtenChunk is a chunk whose column records are placed in pages that
// may not be written yet.
type writtenChunk struct {
	kind       byte
	minT, maxT int64
	ts, vals   *pendingRef
}

// newBlockID returns a sortable unique block name.
func newBlockID(resolution, mint int64) string {
	var r [4]byte
	rand.Read(r[:])
	return fmt.Sprintf("b-%d-%016x-%x-%s", resolution, uint64(mint), time.Now().UnixNano(), hex.EncodeToString(r[:]))
}

func newBlockWriter(parent string, mint, maxt, resolution int64, level int) (*blockWriter, error) {
	id := newBlockID(resolution, mint)
	w := &blockWriter{
		parent: parent,
		tmp:    filepath.Join(parent, id+".tmp"),
		meta:   BlockMeta{Version: blockVersion, ID: id, MinTime: mint, MaxTime: maxt, Resolution: resolution, Level: level},
	}
	if err := os.MkdirAll(w.tmp, 0o755); err != nil {
		return nil, fmt.Errorf("create block directory: %w", storageErr(err))
	}
	f, err := os.Create(filepath.Join(w.tmp, chunksFile))
	if err != nil {
		w.abort()
		return nil, fmt.Errorf("create chunks file: %w", storageErr(err))
	}
	w.cf, w.cw = f, bufio.NewWriterSize(f, 1<<20)
	w.cw.WriteString(chunksMagicV2)
	w.pages = newPageWriter(w.cw, uint64(len(chunksMagicV2)))
	return w, nil
}

// addSeries writes a series' chunks. Series without chunks are skipped.
// Each chunk becomes a timestamp and a value column record; a record equal
// to one already in the block (the timestamps of another series of the
// same scrape target, a histogram's _count and its +Inf bucket) is stored
// once.
func (w *blockWriter) addSeries(ls Labels, chunks []pendingChunk) error {
	if len(chunks) == 0 {
		return nil
	}
	if w.last != nil && Compare(w.last, ls) >= 0 {
		return fmt.Errorf("block writer: series %s added after %s", ls, w.last)
	}
	w.last = ls
	ws := writtenSeries{lset: ls, chunks: make([]writtenChunk, len(chunks))}
	for i, c := range chunks {
		if len(c.ts) == 0 || len(c.ts) != len(c.vs) {
			return fmt.Errorf("block writer: series %s: chunk of %d timestamps and %d values", ls, len(c.ts), len(c.vs))
		}
		wc := writtenChunk{kind: c.kind, minT: c.minT, maxT: c.maxT}
		var err error
		w.rec = binary.AppendUvarint(w.rec[:0], uint64(len(c.ts)))
		w.rec = w.enc.AppendInts(w.rec, c.ts)
		if wc.ts, err = w.pages.add(0, w.rec); err != nil {
			return err
		}
		w.rec = binary.AppendUvarint(w.rec[:0], uint64(len(c.vs)))
		w.rec = w.enc.AppendFloats(w.rec, c.vs)
		if wc.vals, err = w.pages.add(1, w.rec); err != nil {
			return err
		}
		ws.chunks[i] = wc
		w.meta.Chunks++
		if c.kind == kindRaw || c.kind == kindCount {
			w.meta.Samples += int64(len(c.ts))
		}
	}
	w.series = append(w.series, ws)
	w.meta.Series++
	return nil
}

// finish writes the index and meta, syncs, and renames the block into place.
// It returns the final directory and meta. With no series it writes nothing.
func (w *blockWriter) finish() (string, BlockMeta, error) {
	if len(w.series) == 0 {
		w.abort()
		return "", BlockMeta{}, nil
	}
	if err := w.finishFiles(); err != nil {
		w.abort()
		return "", BlockMeta{}, err
	}
	final := filepath.Join(w.parent, w.meta.ID)
	if err := os.Rename(w.tmp, final); err != nil {
		w.abort()
		return "", BlockMeta{}, fmt.Errorf("publish block: %w", err)
	}
	if err := syncDir(w.parent); err != nil {
		return "", BlockMeta{}, fmt.Errorf("sync blocks directory: %w", storageErr(err))
	}
	return final, w.meta, nil
}

func (w *blockWriter) finishFiles() error {
	if err := w.pages.finish(); err != nil {
		return err
	}
	if err := w.cw.Flush(); err != nil {
		return fmt.Errorf("write chunks: %w", storageErr(err))
	}
	if err := w.cf.Sync(); err != nil {
		return fmt.Errorf("sync chunks: %w", storageErr(err))
	}
	if err := w.cf.Close(); err != nil {
		return fmt.Errorf("close chunks: %w", storageErr(err))
	}
	w.cf = nil
	index, err := w.encodeIndex()
	if err != nil {
		return err
	}
	if err := writeFileSync(filepath.Join(w.tmp, indexFile), index); err != nil {
		return fmt.Errorf("write index: %w", storageErr(err))
	}
	w.meta.Bytes = int64(w.pages.off) + int64(len(index))
	if err := writeMeta(w.tmp, w.meta); err != nil {
		return fmt.Errorf("write block meta: %w", storageErr(err))
	}
	if err := syncDir(w.tmp); err != nil {
		return fmt.Errorf("sync block directory: %w", storageErr(err))
	}
	return nil
}

// abort removes the temporary directory.
func (w *blockWriter) abort() {
	if w.cf != nil {
		w.cf.Close()
		w.cf = nil
	}
	os.RemoveAll(w.tmp)
}

// encodeIndex builds the index file: symbols, series, series offsets,
// postings, table of contents, CRC.
func (w *blockWriter) encodeIndex() ([]byte, error) {
	// Symbols are numbered most frequent first, so that label names and
	// common values take one-byte references.
	freq := map[string]int{}
	for _, s := range w.series {
		for _, l := range s.lset {
			freq[l.Name]++
			freq[l.Value]++
		}
	}
	syms := make([]string, 0, len(freq))
	for s := range freq {
		syms = append(syms, s)
	}
	sort.Slice(syms, func(i, j int) bool {
		if fi, fj := freq[syms[i]], freq[syms[j]]; fi != fj {
			return fi > fj
		}
		return syms[i] < syms[j]
	})
	symRef := make(map[string]uint64, len(syms))
	b := []byte(indexMagicV2)

	symbolsOff := uint64(len(b))
	b = binary.AppendUvarint(b, uint64(len(syms)))
	for i, s := range syms {
		symRef[s] = uint64(i)
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}

	seriesOff := uint64(len(b))
	offsets := make([]uint64, len(w.series))
	postings := map[string]map[string]*roaring.Bitmap{}
	for i, s := range w.series {
		offsets[i] = uint64(len(b))
		b = binary.AppendUvarint(b, uint64(len(s.lset)))
		for _, l := range s.lset {
			b = binary.AppendUvarint(b, symRef[l.Name])
			b = binary.AppendUvarint(b, symRef[l.Value])
			vals := postings[l.Name]
			if vals == nil {
				vals = map[string]*roaring.Bitmap{}
				postings[l.Name] = vals
			}
			bm := vals[l.Value]
			if bm == nil {
				bm = roaring.New()
				vals[l.Value] = bm
			}
			bm.Add(uint32(i))
		}
		b = binary.AppendUvarint(b, uint64(len(s.chunks)))
		for _, c := range s.chunks {
			b = append(b, c.kind)
			b = binary.AppendVarint(b, c.minT-w.meta.MinTime)
			b = binary.AppendVarint(b, w.meta.MaxTime-1-c.maxT)
			b = binary.AppendUvarint(b, w.pages.resolve(c.ts))
			b = binary.AppendUvarint(b, w.pages.resolve(c.vals))
		}
	}

	tableOff := uint64(len(b))
	if tableOff > math.MaxUint32 {
		return nil, fmt.Errorf("index of %d series is over 4 GiB", len(w.series))
	}
	for _, o := range offsets {
		b = binary.LittleEndian.AppendUint32(b, uint32(o))
	}

	postingsOff := uint64(len(b))
	names := make([]string, 0, len(postings))
	for n := range postings {
		names = append(names, n)
	}
	sort.Strings(names)
	b = binary.AppendUvarint(b, uint64(len(names)))
	for _, n := range names {
		vals := postings[n]
		vs := make([]string, 0, len(vals))
		for v := range vals {
			vs = append(vs, v)
		}
		sort.Strings(vs)
		b = binary.AppendUvarint(b, symRef[n])
		b = binary.AppendUvarint(b, uint64(len(vs)))
		for _, v := range vs {
			bm := vals[v]
			bm.RunOptimize()
			data, _ := bm.ToBytes()
			b = binary.AppendUvarint(b, symRef[v])
			b = binary.AppendUvarint(b, uint64(len(data)))
			b = append(b, data...)
		}
	}

	for _, o := range []uint64{symbolsOff, seriesOff, tableOff, uint64(len(w.series)), postingsOff} {
		b = binary.LittleEndian.AppendUint64(b, o)
	}
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli)), nil
}
