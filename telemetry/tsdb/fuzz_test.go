package tsdb

import (
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"
)

func FuzzWALRecord(f *testing.F) {
	f.Add(appendSeriesRecord(nil, 7, FromStrings(MetricName, "m", "a", "b")))
	b := appendSamplesHeader(nil, 2)
	b = appendSample(b, 0, 0, walSample{3, 1000, 1.5})
	b = appendSample(b, 3, 1000, walSample{4, 2000, -2})
	f.Add(b)
	f.Add(appendChunkRecord(nil, 9, chunkData{data: []byte{0, 1, 2, 3}}))
	f.Fuzz(func(t *testing.T, rec []byte) {
		if len(rec) == 0 {
			return
		}
		switch rec[0] {
		case recSeries:
			s, err := decodeSeries(rec[1:])
			if err == nil {
				again, err := decodeSeries(appendSeriesRecord(nil, s.ref, s.lset)[1:])
				if err != nil || !again.lset.Equal(s.lset) || again.ref != s.ref {
					t.Fatalf("series record does not round-trip: %v", err)
				}
			}
		case recSamples:
			decodeSamples(rec[1:], nil)
		case recChunk:
			decodeChunk(rec[1:])
		}
	})
}

func FuzzBlockIndex(f *testing.F) {
	dir := f.TempDir()
	db, err := Open(dir, testOptions(nil))
	if err != nil {
		f.Fatal(err)
	}
	ingest(f, db, "m", 3, 0, 60_000, 1)
	if err := db.FlushHead(); err != nil {
		f.Fatal(err)
	}
	st, _ := db.Stats(0)
	db.Close()
	seed, err := os.ReadFile(filepath.Join(dir, blocksDir, st.Blocks[0].ID, indexFile))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 4 { // fix the checksum so the parser itself is exercised
			binary.LittleEndian.PutUint32(b[len(b)-4:], crc32.Checksum(b[:len(b)-4], castagnoli))
		}
		ix, err := parseIndex(b, 0, 7_200_000, blockVersion)
		if err != nil {
			return
		}
		for ord := 0; ord < ix.n && ord < 100; ord++ {
			ix.series(uint32(ord))
		}
		for _, name := range ix.labelNames() {
			for _, v := range ix.labelValues(name) {
				ix.postings(name, v)
			}
		}
	})
}
