package rank

// FirstMover returns the index in rs (ranked best first) of the result
// that moved first: among the first top results whose change-point
// evidence is above noise and whose score is at least 9/10 of the best
// score, the one whose change started earliest (the better ranked on a
// tie); -1 when there is none. A weak candidate with an early change
// (a decoy's step, a noisy series') is not a mover of this incident.
func FirstMover(rs []Result, top int) int {
	best := -1
	for i, r := range rs[:min(top, len(rs))] {
		if r.ChangePoint <= 0 || r.Score < firstMoverShare*rs[0].Score {
			continue
		}
		if best < 0 || r.Change < rs[best].Change {
			best = i
		}
	}
	return best
}

// firstMoverShare is the share of the best score a first mover needs.
const firstMoverShare = 0.9
