package tsdb

import (
	"math"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gaffer-sre/gaffer/telemetry/tsdb/internal/chunk"
)

// Stats describes the store, for `gaffer tsdb inspect` and /metrics.
type Stats struct {
	// Series counts distinct series in the head and raw blocks.
	Series int `json:"series"`
	// HeadSeries counts active series in memory.
	HeadSeries int `json:"headSeries"`
	// Samples counts raw samples in blocks and head.
	Samples int64 `json:"samples"`
	// HeadSamples counts raw samples in memory.
	HeadSamples int64 `json:"headSamples"`
	// HeadChunkBytes is the compressed size of the head's samples.
	HeadChunkBytes int64 `json:"headChunkBytes"`
	// BlockBytes and WALBytes are the on-disk sizes.
	BlockBytes int64 `json:"blockBytes"`
	WALBytes   int64 `json:"walBytes"`
	// BytesPerSample is raw block bytes (index and chunks) per raw block sample.
	BytesPerSample float64 `json:"bytesPerSample"`
	// MinTime and MaxTime bound the stored samples (ms); 0 when empty.
	MinTime int64 `json:"minTime"`
	MaxTime int64 `json:"maxTime"`
	// Blocks lists the persisted blocks, raw first, then rollups.
	Blocks []BlockMeta `json:"blocks"`
	// TopMetrics are the metric names with most series, most first.
	TopMetrics []MetricStats `json:"topMetrics"`
	// DroppedAtCommit counts samples refused at commit because a concurrent
	// batch wrote the same series first.
	DroppedAtCommit int64 `json:"droppedAtCommit"`
}

// MetricStats is one metric name's cardinality.
type MetricStats struct {
	Name   string `json:"name"`
	Series int    `json:"series"`
}

// Stats computes statistics, listing the top metrics by series count.
// It walks the index of every block, so it takes a while on big stores.
func (db *DB) Stats(top int) (Stats, error) {
	var st Stats
	h := db.head
	st.HeadSeries = h.numSeries()
	for _, s := range h.allSeries() {
		st.HeadChunkBytes += int64(s.chunkBytes())
		cs, ooo := s.snapshot(h.minValid.Load(), math.MaxInt64)
		for _, c := range cs {
			st.HeadSamples += int64(chunk.Count(c.data))
		}
		st.HeadSamples += int64(len(ooo))
	}
	st.Samples = st.HeadSamples
	mint, maxt := int64(math.MaxInt64), int64(math.MinInt64)
	if st.HeadSamples > 0 {
		mint, maxt = h.minT.Load(), h.maxT.Load()
	}
	var rawBytes, rawSamples int64
	db.mu.RLock()
	for _, b := range db.blocks {
		st.Blocks = append(st.Blocks, b.meta)
		st.BlockBytes += b.meta.Bytes
		if b.meta.Resolution == 0 {
			rawBytes += b.meta.Bytes
			rawSamples += b.meta.Samples
		}
		mint, maxt = min(mint, b.meta.MinTime), max(maxt, b.meta.MaxTime-1)
	}
	db.mu.RUnlock()
	st.Samples += rawSamples
	if rawSamples > 0 {
		st.BytesPerSample = float64(rawBytes) / float64(rawSamples)
	}
	if mint <= maxt {
		st.MinTime, st.MaxTime = mint, maxt
	}
	st.WALBytes = dirSize(filepath.Join(db.dir, walDir))
	st.DroppedAtCommit = db.droppedAtCommit.Load()

	q, err := db.Querier(math.MinInt64, math.MaxInt64)
	if err != nil {
		return st, err
	}
	defer q.Close()
	perMetric := map[string]int{}
	set := q.Select(nil)
	for set.Next() {
		st.Series++
		perMetric[set.At().Labels().Metric()]++
	}
	if err := set.Err(); err != nil {
		return st, err
	}
	for name, n := range perMetric {
		st.TopMetrics = append(st.TopMetrics, MetricStats{name, n})
	}
	slices.SortFunc(st.TopMetrics, func(a, b MetricStats) int {
		if a.Series != b.Series {
			return b.Series - a.Series
		}
		return strings.Compare(a.Name, b.Name)
	})
	if top >= 0 && len(st.TopMetrics) > top {
		st.TopMetrics = st.TopMetrics[:top]
	}
	return st, nil
}
