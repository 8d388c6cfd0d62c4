package ingest

import (
	"fmt"
	"math"
	"sort"
)

// percentileBuckets are Spectator's percentile bucket upper bounds: 1, 2,
// 3, then each power of 4 divided into three linear steps, up to
// MaxInt64 (276 buckets). Timers record nanoseconds, distribution
// summaries the amount.
var percentileBuckets = func() []int64 {
	b := []int64{1, 2, 3}
	for exp := 2; exp < 64; exp += 2 {
		current := int64(1) << exp
		delta := current / 3
		next := (current << 2) - delta
		for current < next {
			b = append(b, current)
			current += delta
		}
	}
	return append(b, math.MaxInt64)
}()

// percentileIndex returns the bucket of v: the first whose bound is ≥ v.
func percentileIndex(v int64) int {
	if v <= 0 {
		return 0
	}
	return sort.Search(len(percentileBuckets), func(i int) bool { return percentileBuckets[i] >= v })
}

// percentileTagValue names bucket i as Spectator does: T0042 for timers,
// D0042 for distribution summaries.
func percentileTagValue(prefix byte, i int) string {
	return fmt.Sprintf("%c%04X", prefix, i)
}
