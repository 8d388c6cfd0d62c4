package rank

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
)

// fleetFigures are the accuracy figures of a ranking over fleet
// incidents.
type fleetFigures struct {
	// Precision is the mean precision@10 (the share of the first ten
	// that moved because of the incident), Top3 the share of incidents
	// with a root-cause series among the first three, FirstMover the
	// share whose first mover (as the report names it) is a root-cause
	// series.
	Precision, Top3, FirstMover float64
}

func (f fleetFigures) String() string {
	return fmt.Sprintf("precision@10 %.3f, root cause in top 3 %.0f%%, first mover %.0f%%", f.Precision, 100*f.Top3, 100*f.FirstMover)
}

// reportTop is how many results a report explains (its default top),
// among which it names the first mover.
const reportTop = 20

// firstMover is the index of the candidate FirstMover names among the
// results a report explains, or -1.
func firstMover(rs []Result) int {
	if i := FirstMover(rs, reportTop); i >= 0 {
		return rs[i].Index
	}
	return -1
}

// fleetAccuracy ranks the fleet incidents of seeds [from, from+count)
// with each parameter set and returns their figures. With log, it logs
// every incident whose root cause is not in the top 3.
func fleetAccuracy(t testing.TB, from, count int, log bool, ps ...Params) []fleetFigures {
	t.Helper()
	out := make([]fleetFigures, len(ps))
	for seed := from; seed < from+count; seed++ {
		fi := NewFleetIncident(uint64(seed))
		for i, p := range ps {
			tg, err := NewTarget(fi.Target, fi.Window, p)
			if err != nil {
				t.Fatalf("seed %d: %v", seed, err)
			}
			rs, err := Rank(context.Background(), tg, fi.Candidates, 0)
			if err != nil {
				t.Fatal(err)
			}
			hits, top3 := 0, false
			for k, r := range rs[:10] {
				if fi.Moved[r.Index] {
					hits++
				}
				if k < 3 && fi.Root[r.Index] {
					top3 = true
				}
			}
			out[i].Precision += float64(hits) / 10
			if top3 {
				out[i].Top3++
			}
			fm := firstMover(rs)
			if fm >= 0 && fi.Root[fm] {
				out[i].FirstMover++
			}
			if log && i == 0 && (!top3 || hits < 9 || fm < 0 || !fi.Root[fm]) {
				t.Log(describeIncident(fi, tg, rs, seed))
			}
		}
	}
	for i := range out {
		out[i].Precision /= float64(count)
		out[i].Top3 /= float64(count)
		out[i].FirstMover /= float64(count)
	}
	return out
}

// describeIncident lists an incident's first ranked series and where its
// root cause ranked, for reading a failure.
func describeIncident(fi *FleetIncident, tg *Target, rs []Result, seed int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "seed %d: %s, t0 %d, target rose at +%d, onset found %d (%+d), %d candidates, %d moved\n",
		seed, fi.Kind, fi.T0, fi.TargetLag, tg.Onset, tg.Onset-fi.T0, len(fi.Candidates), len(fi.Moved))
	var roots []string
	for pos, r := range rs {
		if fi.Root[r.Index] {
			roots = append(roots, fmt.Sprintf("%d", pos+1))
		}
	}
	fm := firstMover(rs)
	fmt.Fprintf(&b, "  root cause ranked %s; first mover %s (root: %v)\n", strings.Join(roots, ","), nameOf(fi, fm), fm >= 0 && fi.Root[fm])
	show := map[int]bool{}
	for pos := range rs[:12] {
		show[pos] = true
	}
	for pos, r := range rs {
		if fi.Root[r.Index] && len(show) < 20 || r.Index == fm {
			show[pos] = true
		}
	}
	keys := make([]int, 0, len(show))
	for k := range show {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	for _, pos := range keys {
		r := rs[pos]
		mark := " "
		switch {
		case fi.Root[r.Index]:
			mark = "R"
		case fi.Moved[r.Index]:
			mark = "m"
		}
		fmt.Fprintf(&b, "  %3d %s %.3f x%.2f(r%.2f l%d) rk%.2f cp%.2f(z%.1f%s at%+d) sh%.2f pr%.2f φ%.2f %s\n", pos+1, mark, r.Score,
			r.XCorr, r.R, r.Lag, r.Rank, r.ChangePoint, r.ChangeZ, slopeMark(r.Slope), r.Change-fi.T0, r.Shift, r.Precedes, r.Phi, fi.Names[r.Index])
	}
	return b.String()
}

func nameOf(fi *FleetIncident, i int) string {
	if i < 0 {
		return "none"
	}
	return fi.Names[i]
}

// fleetCount is how many fleet incidents the accuracy test ranks.
func fleetCount() int {
	if testing.Short() {
		return 30
	}
	return 100
}

// Floors of the fleet figures that TestFleetAccuracy holds. The goals
// of issue 20 are precision@10 0.9, the root cause in the top 3 in 90%
// and the first mover right in 80%; where a floor is below its goal,
// the goal is not met yet (docs/correlate.md has the figures).
const (
	floorPrecision  = 0.98
	floorTop3       = 0.92
	floorFirstMover = 0.83
)

// TestFleetAccuracy measures the ranking on fleet-shaped incidents
// (seeds 1–100; 30 with -short) and holds their figures at their
// floors. GAFFER_FLEET_LOG=1 logs every incident that misses.
func TestFleetAccuracy(t *testing.T) {
	count := fleetCount()
	got := fleetAccuracy(t, 1, count, os.Getenv("GAFFER_FLEET_LOG") != "", Params{})[0]
	t.Logf("%d fleet incidents: %v", count, got)
	if got.Precision < floorPrecision {
		t.Errorf("mean precision@10 = %.3f, want >= %.2f", got.Precision, floorPrecision)
	}
	if got.Top3 < floorTop3 {
		t.Errorf("root cause in top 3 in %.0f%%, want >= %.0f%%", 100*got.Top3, 100*floorTop3)
	}
	if got.FirstMover < floorFirstMover {
		t.Errorf("first mover right in %.0f%%, want >= %.0f%%", 100*got.FirstMover, 100*floorFirstMover)
	}
}

// TestFleetAblations prints the fleet figures with each feature alone
// and with all but each, for docs/correlate.md. It runs only with
// GAFFER_CORRELATE_ABLATIONS=1.
func TestFleetAblations(t *testing.T) {
	if os.Getenv("GAFFER_CORRELATE_ABLATIONS") == "" {
		t.Skip("set GAFFER_CORRELATE_ABLATIONS=1 to measure the ablations")
	}
	names, ps := ablations()
	got := fleetAccuracy(t, 1, 100, false, ps...)
	var b strings.Builder
	fmt.Fprintf(&b, "| features | precision@10 | root cause in top 3 | first mover |\n|---|---|---|---|\n")
	row := func(name string, f fleetFigures) {
		fmt.Fprintf(&b, "| %s | %.3f | %.0f%% | %.0f%% |\n", name, f.Precision, 100*f.Top3, 100*f.FirstMover)
	}
	row("all five, default weights", got[0])
	row("all five, equal weights", got[1])
	for i, n := range names {
		row(n+" alone", got[2+2*i])
		row("all but "+n, got[3+2*i])
	}
	t.Log("\n" + b.String())
}

// TestFleetHeldOut prints the fleet figures on the held-out seeds
// 101–200 and 201–300, on which no parameter was chosen: a change
// chosen on seeds 1–100 must hold on them too. It runs only with
// GAFFER_FLEET_HELDOUT=1 (it ranks 200 incidents).
func TestFleetHeldOut(t *testing.T) {
	if os.Getenv("GAFFER_FLEET_HELDOUT") == "" {
		t.Skip("set GAFFER_FLEET_HELDOUT=1 to measure the held-out seeds")
	}
	for _, from := range []int{101, 201} {
		got := fleetAccuracy(t, from, 100, false, Params{})[0]
		t.Logf("seeds %d–%d: %v", from, from+99, got)
	}
}

// slopeMark marks a change of slope in a logged incident.
func slopeMark(slope bool) string {
	if slope {
		return "/"
	}
	return ""
}
