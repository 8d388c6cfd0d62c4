package spectator

import (
	"math"
	"math/bits"
)

// The percentile bucket layout of Spectator's PercentileBuckets: 276
// buckets whose bounds grow by powers of 4, each power split in three, so
// that percentiles estimated from counts published by any Spectator client
// agree with Atlas's :percentiles. This is the one implementation in
// Gaffer: telemetry/ingest and telemetry/atlas use it. As in Spectator's
// indexOf, bucket i counts values v with bucket(i-1) ≤ v < bucket(i),
// except that the values past a power of 4's last bound and below the
// next power (15, 61–63, 253–255, …) go one bucket up.
var (
	bucketValues []int64
	powerOf4Idx  []int
)

func init() {
	powerOf4Idx = append(powerOf4Idx, 0)
	bucketValues = append(bucketValues, 1, 2, 3)
	const digits = 2
	for exp := digits; exp < 64; exp += digits {
		current := int64(1) << exp
		delta := current / 3
		next := (current << digits) - delta
		powerOf4Idx = append(powerOf4Idx, len(bucketValues))
		for current < next {
			bucketValues = append(bucketValues, current)
			current += delta
		}
	}
	bucketValues = append(bucketValues, math.MaxInt64)
}

// BucketCount is the number of percentile buckets (276).
func BucketCount() int { return len(bucketValues) }

// BucketIndex returns the bucket that holds v, bit for bit as Spectator's
// PercentileBuckets.indexOf: 0 for v ≤ 0, BucketCount()-1 at the top.
func BucketIndex(v int64) int {
	switch {
	case v <= 0:
		return 0
	case v <= 4:
		return int(v)
	}
	shift := 63 - bits.LeadingZeros64(uint64(v))
	prevPowerOf2 := (v >> shift) << shift
	prevPowerOf4 := prevPowerOf2
	if shift%2 != 0 {
		shift--
		prevPowerOf4 = prevPowerOf2 >> 1
	}
	base := prevPowerOf4
	delta := base / 3
	offset := int((v - base) / delta)
	pos := offset + powerOf4Idx[shift/2]
	if pos >= len(bucketValues)-1 {
		return len(bucketValues) - 1
	}
	return pos + 1
}

// Percentiles estimates the percentiles pcts (0–100, ascending) from
// per-bucket counts (len BucketCount()) into results, interpolating
// linearly inside a bucket, exactly as Spectator and Atlas do.
func Percentiles(counts []float64, pcts, results []float64) {
	last := 0
	total := 0.0
	for i, c := range counts {
		if c > 0 && !math.IsInf(c, 0) && !math.IsNaN(c) {
			total += c
			last = i
		}
	}
	pi := 0
	prev, prevP := 0.0, 0.0
	var prevB int64
	for i := 0; i <= last; i++ {
		next := prev + counts[i]
		nextP := 100 * next / total
		nextB := bucketValues[i]
		for pi < len(pcts) && nextP >= pcts[pi] {
			f := (pcts[pi] - prevP) / (nextP - prevP)
			if math.IsNaN(f) {
				results[pi] = 0
			} else {
				results[pi] = f*float64(nextB-prevB) + float64(prevB)
			}
			pi++
		}
		if pi >= len(pcts) {
			break
		}
		prev, prevP, prevB = next, nextP, nextB
	}
	nextB := bucketValues[last]
	for ; pi < len(pcts); pi++ {
		f := (pcts[pi] - prevP) / (100 - prevP)
		results[pi] = f*float64(nextB-prevB) + float64(prevB)
	}
}
