package tsdb

import (
	"encoding/binary"
	"hash/crc32"
	"math"
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
	var e walEncoder
	ps := []pendingSample{{s: &memSeries{ref: 3}, t: 1000, v: 1.5}, {s: &memSeries{ref: 4}, t: 2000, v: -2}, {s: &memSeries{ref: 4}, t: 3000, v: math.Pi}}
	f.Add(e.sampleRecords(ps)[0])
	f.Add(e.seriesRecords([]*memSeries{testSeries(3, FromStrings(MetricName, "m"))})[0])
	e.rec = appendColumnsRecord(nil, &e.col, []int64{3, 4, 4}, []int64{1000, 2000, 3000}, []float64{1.5, -2, math.Pi})
	f.Add(e.rec)
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
		case recSampleColumns:
			checkColumnsRoundTrip(t, rec[1:])
		case recCompressed:
			_, inner, err := decodeCompressed(rec[1:], nil, nil)
			for _, r := range inner {
				if err != nil || len(r) == 0 || r[0] == recCompressed {
					t.Fatalf("compressed record yields inner record %v (error %v)", r, err)
				}
				if r[0] == recSampleColumns {
					checkColumnsRoundTrip(t, r[1:])
				}
			}
		}
	})
}

// checkColumnsRoundTrip decodes a columns record and, if it is valid,
// checks that encoding the samples again gives them back bit for bit.
func checkColumnsRoundTrip(t *testing.T, b []byte) {
	var sc columnScratch
	ss, err := decodeColumns(b, nil, &sc)
	if err != nil {
		if len(ss) != 0 {
			t.Fatalf("malformed columns record yields %d samples", len(ss))
		}
		return
	}
	refs, ts, vs := make([]int64, len(ss)), make([]int64, len(ss)), make([]float64, len(ss))
	for i, s := range ss {
		refs[i], ts[i], vs[i] = int64(s.ref), s.t, s.v
	}
	again, err := decodeColumns(appendColumnsRecord(nil, &sc, refs, ts, vs)[1:], nil, &sc)
	if err != nil || len(again) != len(ss) {
		t.Fatalf("columns record does not round-trip: %d of %d samples, %v", len(again), len(ss), err)
	}
	for i := range ss {
		if again[i].ref != ss[i].ref || again[i].t != ss[i].t || math.Float64bits(again[i].v) != math.Float64bits(ss[i].v) {
			t.Fatalf("sample %d: %+v, then %+v", i, ss[i], again[i])
		}
	}
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
