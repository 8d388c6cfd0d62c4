package ingest

import (
	"fmt"
	"math"
	"math/bits"
)

// percentileBuckets are Spectator's percentile bucket upper bounds: 1, 2,
// 3, then each power of 4 divided into three linear steps, up to
// MaxInt64 (276 buckets). Timers record nanoseconds, distribution
// summaries the amount. powerOf4Index[k] is where the k-th power of 4's
// buckets start.
var percentileBuckets, powerOf4Index = func() ([]int64, []int) {
	b, idx := []int64{1, 2, 3}, []int{0}
	for exp := 2; exp < 64; exp += 2 {
		current := int64(1) << exp
		delta := current / 3
		next := (current << 2) - delta // overflows for the last power: no buckets
		idx = append(idx, len(b))
		for current < next {
			b = append(b, current)
			current += delta
		}
	}
	return append(b, math.MaxInt64), idx
}()

// percentileIndex returns the bucket of v as Spectator's indexOf does,
// bit for bit, so that percentiles agree with every Spectator client.
func percentileIndex(v int64) int {
	switch {
	case v <= 0:
		return 0
	case v <= 4:
		return int(v)
	}
	shift := 63 - bits.LeadingZeros64(uint64(v))
	base := (v >> shift) << shift
	if shift%2 != 0 {
		shift--
		base >>= 1
	}
	pos := int((v-base)/(base/3)) + powerOf4Index[shift/2]
	if pos >= len(percentileBuckets)-1 {
		return len(percentileBuckets) - 1
	}
	return pos + 1
}

// percentileTagValue names bucket i as Spectator does: T0042 for timers,
// D0042 for distribution summaries.
func percentileTagValue(prefix byte, i int) string {
	return fmt.Sprintf("%c%04X", prefix, i)
}
