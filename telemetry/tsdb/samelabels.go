package tsdb

import (
	"cmp"
	"slices"
)

// Series with the same labels: the head drops a series left empty by a
// truncation (marking it deleted), and an appender that finds it deleted
// creates a successor. Until the index forgets the old one, both can be
// listed; and a series whose samples all went to the backfill buffer is
// empty in the head, so the buffer can hold samples of both. Readers and
// writers treat such a group as one series.

// sortByLabels sorts series by labels and returns, for each group of
// series with equal labels, the group's first live member (or its first
// member, when all are deleted) and the whole group, in order.
func sortByLabels(series []*memSeries) (reps []*memSeries, groups map[*memSeries][]*memSeries) {
	slices.SortFunc(series, compareLabels)
	reps = make([]*memSeries, 0, len(series))
	for i := 0; i < len(series); {
		j := i + 1
		for j < len(series) && compareLabels(series[j], series[i]) == 0 {
			j++
		}
		rep := series[i]
		if j-i > 1 {
			group := slices.Clone(series[i:j])
			for _, s := range group {
				if !s.deleted.Load() {
					rep = s
					break
				}
			}
			if groups == nil {
				groups = map[*memSeries][]*memSeries{}
			}
			groups[rep] = group
		}
		reps = append(reps, rep)
		i = j
	}
	return reps, groups
}

// mergeSamples folds the backfill samples of each group into its
// representative's list: sorted by time, the first-written value winning a
// repeated timestamp (the older series' samples come first).
func mergeSamples(waiting map[*memSeries][]sample, groups map[*memSeries][]*memSeries) {
	for rep, group := range groups {
		slices.SortFunc(group, func(a, b *memSeries) int { return cmp.Compare(a.ref, b.ref) })
		var all []sample
		for _, s := range group {
			all = append(all, waiting[s]...)
			delete(waiting, s)
		}
		slices.SortStableFunc(all, func(x, y sample) int { return cmp.Compare(x.t, y.t) })
		waiting[rep] = slices.CompactFunc(all, func(x, y sample) bool { return x.t == y.t })
	}
}
