package tsdb

import (
	"bufio"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/gaffer-sre/gaffer/telemetry/tsdb/internal/chunk"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// encodedChunk is a chunk ready to be written.
type encodedChunk struct {
	kind       byte
	minT, maxT int64
	data       []byte
}

// blockWriter writes one block into a temporary directory and publishes it
// atomically by renaming. Series must be added in label order.
type blockWriter struct {
	parent string
	tmp    string
	meta   BlockMeta

	cf     *os.File
	cw     *bufio.Writer
	off    uint64
	crc    [4]byte
	series []writtenSeries
	last   Labels
}

type writtenSeries struct {
	lset  Labels
	metas []chunkMeta
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
	w.cw.WriteString(chunksMagic)
	w.off = uint64(len(chunksMagic))
	return w, nil
}

// addSeries writes a series' chunks. Series without chunks are skipped.
func (w *blockWriter) addSeries(ls Labels, chunks []encodedChunk) error {
	if len(chunks) == 0 {
		return nil
	}
	if w.last != nil && Compare(w.last, ls) >= 0 {
		return fmt.Errorf("block writer: series %s added after %s", ls, w.last)
	}
	w.last = ls
	ws := writtenSeries{lset: ls, metas: make([]chunkMeta, len(chunks))}
	for i, c := range chunks {
		ws.metas[i] = chunkMeta{kind: c.kind, minT: c.minT, maxT: c.maxT, ref: w.off}
		var hdr [binary.MaxVarintLen64]byte
		n := binary.PutUvarint(hdr[:], uint64(len(c.data)))
		w.cw.Write(hdr[:n])
		w.cw.Write(c.data)
		binary.LittleEndian.PutUint32(w.crc[:], crc32.Checksum(c.data, castagnoli))
		if _, err := w.cw.Write(w.crc[:]); err != nil {
			return fmt.Errorf("write chunks: %w", storageErr(err))
		}
		w.off += uint64(n + len(c.data) + 4)
		w.meta.Chunks++
		if c.kind == kindRaw || c.kind == kindCount {
			w.meta.Samples += int64(chunk.Count(c.data))
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
	index := w.encodeIndex()
	if err := writeFileSync(filepath.Join(w.tmp, indexFile), index); err != nil {
		return fmt.Errorf("write index: %w", storageErr(err))
	}
	w.meta.Bytes = int64(w.off) + int64(len(index))
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
func (w *blockWriter) encodeIndex() []byte {
	symSet := map[string]struct{}{}
	for _, s := range w.series {
		for _, l := range s.lset {
			symSet[l.Name] = struct{}{}
			symSet[l.Value] = struct{}{}
		}
	}
	syms := make([]string, 0, len(symSet))
	for s := range symSet {
		syms = append(syms, s)
	}
	sort.Strings(syms)
	symRef := make(map[string]uint64, len(syms))
	b := []byte(indexMagic)

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
		b = binary.AppendUvarint(b, uint64(len(s.metas)))
		for _, m := range s.metas {
			b = append(b, m.kind)
			b = binary.AppendVarint(b, m.minT-w.meta.MinTime)
			b = binary.AppendUvarint(b, uint64(m.maxT-m.minT))
			b = binary.AppendUvarint(b, m.ref)
		}
	}

	tableOff := uint64(len(b))
	for _, o := range offsets {
		b = binary.LittleEndian.AppendUint64(b, o)
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
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}
