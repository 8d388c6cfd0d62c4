package spectator

import (
	"math"
	"math/bits"
	"sort"
	"testing"
)

// spectatorBounds is Spectator's PercentileBuckets as its definition
// reads: 1, 2, 3; 4 to 14 by 1; then for each power of 4 from 4^2 to
// 4^30 nine bounds 4^k + j·⌊4^k/3⌋ (j = 0…8); then MaxInt64. (4^31 has
// none: its next power overflows.)
func spectatorBounds() []int64 {
	b := []int64{1, 2, 3}
	for v := int64(4); v <= 14; v++ {
		b = append(b, v)
	}
	for k := 2; k <= 30; k++ {
		base := int64(1) << (2 * k)
		for j := int64(0); j < 9; j++ {
			b = append(b, base+j*(base/3))
		}
	}
	return append(b, math.MaxInt64)
}

// TestBucketBoundsAsSpectator checks every bound against Spectator's
// definition, and a few by value.
func TestBucketBoundsAsSpectator(t *testing.T) {
	want := spectatorBounds()
	if BucketCount() != len(want) || len(want) != 276 {
		t.Fatalf("%d buckets, Spectator has %d (276)", BucketCount(), len(want))
	}
	for i, w := range want {
		if got := bucketValues[i]; got != w {
			t.Errorf("bucketValues[%d] = %d, want %d", i, got, w)
		}
	}
	for i, w := range map[int]int64{
		14: 16, 22: 56, 23: 64, 24: 85, 85: 961_192, 86: 1 << 20,
		177: 1_466_015_503_701, 274: 4_227_378_850_225_105_576, 275: math.MaxInt64,
	} {
		if got := bucketValues[i]; got != w {
			t.Errorf("bucketValues[%d] = %d, want %d", i, got, w)
		}
	}
}

// TestBucketIndexKnown checks indexes worked out by hand from Spectator's
// indexOf, including the values just below a power of 4 that it puts one
// bucket up (15, 61–63).
func TestBucketIndexKnown(t *testing.T) {
	for _, c := range []struct {
		v    int64
		want int
	}{
		{math.MinInt64, 0}, {-1, 0}, {0, 0}, {1, 1}, {2, 2}, {3, 3}, {4, 4}, {5, 5},
		{13, 13}, {14, 14}, {15, 15}, {16, 15}, {17, 15}, {20, 15}, {21, 16},
		{55, 22}, {56, 23}, {60, 23}, {61, 24}, {63, 24}, {64, 24}, {84, 24}, {85, 25},
		{1_000_000, 86}, {1 << 20, 87}, {1 << 40, 177},
		{4_227_378_850_225_105_575, 274}, {4_227_378_850_225_105_576, 275},
		{1 << 62, 275}, {math.MaxInt64 - 1, 275}, {math.MaxInt64, 275},
	} {
		if got := BucketIndex(c.v); got != c.want {
			t.Errorf("BucketIndex(%d) = %d, want %d", c.v, got, c.want)
		}
	}
}

// TestBucketIndexSweep checks BucketIndex at 0, 1, every bound ±1, every
// power of 4 ±1 and MaxInt64 against the rule stated from the bounds:
// the first bucket whose bound exceeds v, one further for values past a
// power of 4's last bound (those from the last bound plus its step up to
// the next power of 4), the last bucket at most.
func TestBucketIndexSweep(t *testing.T) {
	bounds := spectatorBounds()
	last := len(bounds) - 1
	vs := []int64{0, 1, math.MaxInt64}
	for _, b := range bounds {
		vs = append(vs, b-1, b)
		if b < math.MaxInt64 {
			vs = append(vs, b+1)
		}
	}
	for k := 0; k < 32; k++ {
		p := int64(1) << (2 * k)
		vs = append(vs, p-1, p, p+1)
	}
	sort.Slice(vs, func(i, j int) bool { return vs[i] < vs[j] })
	prev := 0
	for _, v := range vs {
		want := sort.Search(len(bounds), func(i int) bool { return bounds[i] > v })
		if want < last && want > 4 {
			next := bounds[want]
			if next&(next-1) == 0 && bits.TrailingZeros64(uint64(next))%2 == 0 { // a power of 4
				step := next / 4 / 3
				if v >= bounds[want-1]+step {
					want++
				}
			}
		}
		want = min(want, last)
		got := BucketIndex(v)
		if got != want {
			t.Errorf("BucketIndex(%d) = %d, want %d", v, got, want)
			continue
		}
		if bucketValues[got] < v {
			t.Errorf("bucketValues[BucketIndex(%d)] = %d, below the value", v, bucketValues[got])
		}
		if got < prev {
			t.Errorf("BucketIndex(%d) = %d, below %d for a smaller value", v, got, prev)
		}
		prev = got
	}
}
