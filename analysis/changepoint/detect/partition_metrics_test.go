package detect

import (
	"errors"
	"fmt"
	"math"
)

// ErrBadPartition reports breakpoint lists that metrics cannot compare:
// empty, repeated indices, or ending at different lengths.
var ErrBadPartition = errors.New("bad partition")

// The metrics compare two segmentations given as breakpoint lists in
// ruptures' convention (the last element is the number of samples).

func checkPartitions(a, b []int) error {
	for i, bk := range [][]int{a, b} {
		if len(bk) == 0 {
			return fmt.Errorf("%w: partition %d is empty", ErrBadPartition, i+1)
		}
		seen := map[int]bool{}
		for _, v := range bk {
			if seen[v] {
				return fmt.Errorf("%w: index %d is repeated in partition %d", ErrBadPartition, v, i+1)
			}
			seen[v] = true
		}
	}
	if maxInt(a) != maxInt(b) {
		return fmt.Errorf("%w: partitions end at %d and %d", ErrBadPartition, maxInt(a), maxInt(b))
	}
	return nil
}

func maxInt(a []int) int {
	m := a[0]
	for _, v := range a {
		m = max(m, v)
	}
	return m
}

// Hausdorff returns the Hausdorff distance between the change points of a
// and b (the last, final index excluded): the largest distance from a
// change point of one to the nearest change point of the other.
func Hausdorff(a, b []int) (float64, error) {
	if err := checkPartitions(a, b); err != nil {
		return 0, err
	}
	ca, cb := a[:len(a)-1], b[:len(b)-1]
	if len(ca) == 0 || len(cb) == 0 {
		return 0, fmt.Errorf("%w: hausdorff needs at least one change point in each partition", ErrBadPartition)
	}
	return math.Max(directed(ca, cb), directed(cb, ca)), nil
}

// directed returns the largest distance from a point of x to its nearest
// point of y.
func directed(x, y []int) float64 {
	worst := 0.0
	for _, u := range x {
		best := math.Inf(1)
		for _, v := range y {
			best = math.Min(best, math.Abs(float64(u-v)))
		}
		worst = math.Max(worst, best)
	}
	return worst
}

// RandIndex returns the Rand index of the two segmentations: the share of
// sample pairs on which they agree (both together or both apart), in [0, 1].
func RandIndex(a, b []int) (float64, error) {
	if err := checkPartitions(a, b); err != nil {
		return 0, err
	}
	n := a[len(a)-1]
	if n < 2 {
		return 1, nil
	}
	disagreement := 0.0
	beginJ := 0
	for i := range a {
		s1, e1 := 0, a[i]
		if i > 0 {
			s1 = a[i-1]
		}
		for j := beginJ; j < len(b); j++ {
			s2, e2 := 0, b[j]
			if j > 0 {
				s2 = b[j-1]
			}
			nij := max(min(e1, e2)-max(s1, s2), 0)
			disagreement += float64(nij * abs(e1-e2))
			if e1 < e2 {
				break
			}
			beginJ = j + 1
		}
	}
	disagreement /= float64(n) * float64(n-1) / 2
	return 1 - disagreement, nil
}

// Hamming returns 1 - RandIndex(a, b).
func Hamming(a, b []int) (float64, error) {
	ri, err := RandIndex(a, b)
	return 1 - ri, err
}

// PrecisionRecall returns the precision and recall of the predicted change
// points pred against truth: a true change point is found when a predicted
// one, not used for another, lies strictly within margin samples of it.
func PrecisionRecall(truth, pred []int, margin int) (precision, recall float64, err error) {
	if err := checkPartitions(truth, pred); err != nil {
		return 0, 0, err
	}
	if margin <= 0 {
		return 0, 0, fmt.Errorf("%w: margin must be > 0, got %d", ErrBadParameter, margin)
	}
	if len(pred) == 1 {
		return 0, 0, nil
	}
	used := map[int]bool{}
	found := map[int]bool{}
	for _, t := range truth[:len(truth)-1] {
		for _, p := range pred[:len(pred)-1] {
			if p-margin < t && t < p+margin && !used[p] {
				used[p] = true
				found[t] = true
			}
		}
	}
	tp := float64(len(found))
	precision = tp / float64(len(pred)-1)
	if len(truth) > 1 {
		recall = tp / float64(len(truth)-1)
	}
	return precision, recall, nil
}

// MeanTime returns the mean, over the predicted change points, of the
// distance to the nearest true change point.
func MeanTime(truth, pred []int) (float64, error) {
	if err := checkPartitions(truth, pred); err != nil {
		return 0, err
	}
	ct, cp := truth[:len(truth)-1], pred[:len(pred)-1]
	if len(ct) == 0 || len(cp) == 0 {
		return 0, fmt.Errorf("%w: meantime needs at least one change point in each partition", ErrBadPartition)
	}
	sum := 0.0
	for _, p := range cp {
		best := math.Inf(1)
		for _, t := range ct {
			best = math.Min(best, math.Abs(float64(p-t)))
		}
		sum += best
	}
	return sum / float64(len(cp)), nil
}
