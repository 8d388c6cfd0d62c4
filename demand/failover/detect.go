package failover

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/gaffer-sre/gaffer/analysis/changepoint/detect"
	"github.com/gaffer-sre/gaffer/demand/failover/fleet"
	"github.com/gaffer-sre/gaffer/demand/failover/plan"
	"github.com/gaffer-sre/gaffer/internal/platform/jobs"
)

// Evidence is what detection found for one region.
type Evidence struct {
	Fleet  string    `json:"fleet"`
	Region string    `json:"region"`
	Metric string    `json:"metric"`
	At     time.Time `json:"at"`
	// Current is the key metric's mean over the window ending At;
	// Yesterday and LastWeek the same window one day and one week
	// earlier (absent without data).
	Current        float64  `json:"current"`
	Yesterday      *float64 `json:"yesterday,omitempty"`
	LastWeek       *float64 `json:"last_week,omitempty"`
	RatioYesterday *float64 `json:"ratio_yesterday,omitempty"`
	RatioLastWeek  *float64 `json:"ratio_last_week,omitempty"`
	Threshold      float64  `json:"threshold"`
	// Dropped is set when the metric is below the threshold against
	// every baseline there is (at least one).
	Dropped bool `json:"dropped"`
	// ChangePoint is the onset of the drop, found by PELT on the
	// lookback window.
	ChangePoint *ChangePoint `json:"change_point,omitempty"`
	// Recommend is set when both agree: the region should be evacuated.
	Recommend bool   `json:"recommend"`
	Reason    string `json:"reason"`
	// Recommendation is the ID of the recommendation recorded for it.
	Recommendation string `json:"recommendation,omitempty"`
}

// ChangePoint is the onset of a drop.
type ChangePoint struct {
	Onset   time.Time `json:"onset"`
	Before  float64   `json:"before"`
	After   float64   `json:"after"`
	Penalty float64   `json:"penalty"`
}

// Detect checks every region of a fleet at time at. With record set,
// each recommendation is stored and published as gaffer.failover.recommended
// (at most one per region per cooldown).
func (s *Service) Detect(ctx context.Context, fleetName string, at time.Time, record bool) ([]Evidence, error) {
	sf, err := s.Fleet(ctx, fleetName)
	if err != nil {
		return nil, err
	}
	f := sf.Spec
	d := f.Demand.WithDefaults()
	if d.RegionMetric == "" {
		return nil, fmt.Errorf("%w: fleet %s has no demand.region_metric to watch", plan.ErrBadRequest, f.Name)
	}
	q, err := s.querier()
	if err != nil {
		return nil, err
	}
	out, err := detectRegions(ctx, q, f, at)
	if err != nil {
		return nil, err
	}
	if record {
		for i := range out {
			if out[i].Recommend {
				if err := s.recommend(ctx, &out[i]); err != nil {
					return nil, err
				}
			}
		}
	}
	return out, nil
}

func detectRegions(ctx context.Context, q Querier, f *fleet.Fleet, at time.Time) ([]Evidence, error) {
	d, det := f.Demand.WithDefaults(), f.Detection.WithDefaults()
	win := det.Window.D()
	step := max(win/5, time.Second)
	mean := func(from time.Time) (map[string]float64, error) {
		series, err := seriesBy(ctx, q, d.RegionMetric, d.RegionLabel, from.Add(-win), from, step)
		if err != nil {
			return nil, fmt.Errorf("detect: query %s: %w", d.RegionMetric, err)
		}
		out := map[string]float64{}
		for r, ss := range series {
			sum := 0.0
			for _, p := range ss {
				sum += p.V
			}
			out[r] = sum / float64(len(ss))
		}
		return out, nil
	}
	now, err := mean(at)
	if err != nil {
		return nil, err
	}
	yday, err := mean(at.Add(-24 * time.Hour))
	if err != nil {
		return nil, err
	}
	week, err := mean(at.Add(-7 * 24 * time.Hour))
	if err != nil {
		return nil, err
	}
	hist, err := seriesBy(ctx, q, d.RegionMetric, d.RegionLabel, at.Add(-det.Lookback.D()), at, time.Minute)
	if err != nil {
		return nil, fmt.Errorf("detect: query %s: %w", d.RegionMetric, err)
	}
	var out []Evidence
	for _, r := range f.Regions {
		e := Evidence{Fleet: f.Name, Region: r.Name, Metric: d.RegionMetric, At: at.UTC(), Current: now[r.Name], Threshold: det.Threshold}
		if _, ok := now[r.Name]; !ok {
			e.Reason = "no current data"
			out = append(out, e)
			continue
		}
		baselines := 0
		e.Dropped = true
		for _, b := range []struct {
			v     map[string]float64
			base  **float64
			ratio **float64
		}{{yday, &e.Yesterday, &e.RatioYesterday}, {week, &e.LastWeek, &e.RatioLastWeek}} {
			v, ok := b.v[r.Name]
			if !ok || v <= 0 {
				continue
			}
			baselines++
			ratio := e.Current / v
			*b.base, *b.ratio = &v, &ratio
			e.Dropped = e.Dropped && ratio < det.Threshold
		}
		e.Dropped = e.Dropped && baselines > 0
		e.ChangePoint = onset(ctx, hist[r.Name], det.Threshold)
		e.Recommend = e.Dropped && e.ChangePoint != nil
		e.Reason = reason(e, baselines)
		out = append(out, e)
	}
	return out, nil
}

func reason(e Evidence, baselines int) string {
	switch {
	case baselines == 0:
		return "no data yesterday or last week to compare with"
	case !e.Dropped:
		return fmt.Sprintf("not below %.0f%% of its level yesterday or last week", e.Threshold*100)
	case e.ChangePoint == nil:
		return "below its usual level, but without an abrupt onset in the lookback window"
	}
	return fmt.Sprintf("dropped at %s from %.4g to %.4g; below %.0f%% of %s",
		e.ChangePoint.Onset.Format(time.RFC3339), e.ChangePoint.Before, e.ChangePoint.After, e.Threshold*100, comparedWith(e))
}

// comparedWith names the baselines the evidence has.
func comparedWith(e Evidence) string {
	switch {
	case e.Yesterday != nil && e.LastWeek != nil:
		return "yesterday and last week"
	case e.Yesterday != nil:
		return "yesterday (no data last week)"
	default:
		return "last week (no data yesterday)"
	}
}

// onset finds the last change point of the series by PELT (l2 cost,
// BIC penalty) and returns it if the mean after it fell by at least half
// the drop the threshold asks for.
func onset(ctx context.Context, samples []plan.Sample, threshold float64) *ChangePoint {
	if len(samples) < 10 {
		return nil
	}
	sort.Slice(samples, func(i, j int) bool { return samples[i].T.Before(samples[j].T) })
	x := make([]float64, len(samples))
	for i, p := range samples {
		x[i] = p.V
	}
	sig, err := detect.NewSeries(x)
	if err != nil {
		return nil
	}
	pen := detect.PenaltyBIC(sig)
	bkps, err := detect.Detect(ctx, sig, detect.Params{Method: "pelt", Cost: "l2", Pen: &pen, MinSize: 3, Jump: 1})
	if err != nil || len(bkps) < 2 {
		return nil
	}
	b := bkps[len(bkps)-2]
	start := 0
	if len(bkps) >= 3 {
		start = bkps[len(bkps)-3]
	}
	before, after := meanOf(x[start:b]), meanOf(x[b:])
	if before <= 0 || after > before*(1+threshold)/2 {
		return nil
	}
	return &ChangePoint{Onset: samples[b].T.UTC(), Before: before, After: after, Penalty: pen}
}

func meanOf(x []float64) float64 {
	s := 0.0
	for _, v := range x {
		s += v
	}
	return s / math.Max(1, float64(len(x)))
}

// recommend records a recommendation and publishes it, unless one for
// the region was made within the cooldown.
func (s *Service) recommend(ctx context.Context, e *Evidence) error {
	sf, err := s.Fleet(ctx, e.Fleet)
	if err != nil {
		return err
	}
	cool := sf.Spec.Detection.WithDefaults().Cooldown.D()
	var last string
	err = s.db.QueryRowContext(ctx, `SELECT id FROM failover_recommendations WHERE fleet = ? AND region = ? AND detected_at > ?
		ORDER BY detected_at DESC LIMIT 1`, e.Fleet, e.Region, e.At.Add(-cool).UnixMilli()).Scan(&last)
	if err == nil {
		e.Recommendation = last
		e.Reason += fmt.Sprintf("; already recommended (%s) within the %v cooldown", last, cool)
		return nil
	}
	id := newID("rec")
	e.Recommendation = id
	body := jsonString(e)
	if _, err := s.db.ExecContext(ctx, `INSERT INTO failover_recommendations (id, fleet, region, onset, detected_at, evidence)
		VALUES (?, ?, ?, ?, ?, ?)`, id, e.Fleet, e.Region, e.ChangePoint.Onset.UnixMilli(), e.At.UnixMilli(), body); err != nil {
		return fmt.Errorf("record recommendation: %w", err)
	}
	s.publish(ctx, id, EventRecommended, e.Region, map[string]any{"recommendation": id, "fleet": e.Fleet, "region": e.Region,
		"action": "evacuate", "evidence": e})
	return nil
}

// detectJob checks every fleet that has a region metric.
func (s *Service) detectJob(ctx context.Context, _ *jobs.Job, _ struct{}) error {
	return s.eachFleet(ctx, func(sf *StoredFleet) {
		if sf.Spec.Demand.RegionMetric == "" || sf.Spec.Detection.Disabled {
			return
		}
		if _, err := s.Detect(ctx, sf.Name, s.now(), true); err != nil {
			s.log.Warn("failover: detection", "fleet", sf.Name, "error", err)
		}
	})
}
