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

	readers sync.WaitGroup // queriers using the block
}

// openBlock maps a block's files and parses its index.
func openBlock(dir string) (*block, error) {
	meta, err := readMeta(dir)
	if err != nil {
		return nil, fmt.Errorf("open block %s: %w", filepath.Base(dir), err)
	}
	ixFile, err := openMapped(filepath.Join(dir, indexFile))
	if err != nil {
		return nil, fmt.Errorf("open block %s: %w", meta.ID, err)
	}
	ix, err := parseIndex(ixFile.b, meta.MinTime)
	if err != nil {
		ixFile.Close()
		return nil, fmt.Errorf("open block %s: %w", meta.ID, err)
	}
	chFile, err := openMapped(filepath.Join(dir, chunksFile))
	if err != nil {
		ixFile.Close()
		return nil, fmt.Errorf("open block %s: %w", meta.ID, err)
	}
	if len(chFile.b) < len(chunksMagic) || string(chFile.b[:len(chunksMagic)]) != chunksMagic {
		ixFile.Close()
		chFile.Close()
		return nil, fmt.Errorf("open block %s: %w: chunks file has a bad header", meta.ID, ErrCorruptBlock)
	}
	return &block{dir: dir, meta: meta, index: ix, ixFile: ixFile, chFile: chFile}, nil
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
		data, err := b.chunk(m.ref)
		if err != nil {
			return nil, err
		}
		out = append(out, chunkData{minT: m.minT, maxT: m.maxT, data: data})
	}
	return out, nil
}

// verify reads every chunk and checks its checksum.
func (b *block) verify() error {
	for ord := 0; ord < b.index.n; ord++ {
		_, metas, err := b.index.series(uint32(ord))
		if err != nil {
			return err
		}
		for _, m := range metas {
			if _, err := b.chunk(m.ref); err != nil {
				return err
			}
		}
	}
	return nil
}

// close unmaps the block's files once no querier uses it.
func (b *block) close() error {
	b.readers.Wait()
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
