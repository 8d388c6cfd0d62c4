package failover

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gaffer-sre/gaffer/demand/failover/fleet"
	"github.com/gaffer-sre/gaffer/demand/failover/plan"
)

// PlanRequest asks for a plan of a fleet.
type PlanRequest struct {
	Fleet string `json:"fleet"`
	plan.Request
}

// PlanRecord is a stored plan.
type PlanRecord struct {
	ID           string    `json:"id"`
	Fleet        string    `json:"fleet"`
	FleetVersion int       `json:"fleet_version"`
	CreatedAt    time.Time `json:"created_at"`
	CreatedBy    string    `json:"created_by"`
	// PlanSeconds is the time taken to compute the plan, forecasts
	// included.
	PlanSeconds float64 `json:"plan_seconds"`
	*plan.Plan
}

// PlanSummary is a plan in a list.
type PlanSummary struct {
	ID           string    `json:"id"`
	Fleet        string    `json:"fleet"`
	FleetVersion int       `json:"fleet_version"`
	Region       string    `json:"region"`
	Fraction     float64   `json:"fraction"`
	Status       string    `json:"status"`
	PlanSeconds  float64   `json:"plan_seconds"`
	CreatedAt    time.Time `json:"created_at"`
	CreatedBy    string    `json:"created_by"`
}

func newID(prefix string) string {
	var b [8]byte
	rand.Read(b[:])
	return prefix + "_" + hex.EncodeToString(b[:])
}

// CreatePlan computes a plan for the current version of a fleet at the
// current time and stores it.
func (s *Service) CreatePlan(ctx context.Context, req PlanRequest, by string) (*PlanRecord, error) {
	sf, err := s.Fleet(ctx, req.Fleet)
	if err != nil {
		return nil, err
	}
	began := time.Now()
	now := s.now()
	fc, warnings := s.forecasts(ctx, sf.Spec, now)
	p, err := plan.Make(plan.Input{Fleet: sf.Spec, Now: now, Demand: fc}, req.Request)
	if err != nil {
		return nil, err
	}
	p.Warnings = append(warnings, p.Warnings...)
	rec := &PlanRecord{ID: newID("plan"), Fleet: sf.Name, FleetVersion: sf.Version, CreatedAt: now.UTC(), CreatedBy: by,
		PlanSeconds: time.Since(began).Seconds(), Plan: p}
	return rec, s.storePlan(ctx, rec)
}

// planFor computes a plan of fleet f at now with given forecasts (used by
// exercises, whose demand is synthetic).
func (s *Service) planFor(ctx context.Context, f *fleet.Fleet, version int, now time.Time, fc map[string]*plan.Forecast,
	req plan.Request, by string) (*PlanRecord, error) {
	began := time.Now()
	p, err := plan.Make(plan.Input{Fleet: f, Now: now, Demand: fc}, req)
	if err != nil {
		return nil, err
	}
	rec := &PlanRecord{ID: newID("plan"), Fleet: f.Name, FleetVersion: version, CreatedAt: s.now().UTC(), CreatedBy: by,
		PlanSeconds: time.Since(began).Seconds(), Plan: p}
	return rec, s.storePlan(ctx, rec)
}

func (s *Service) storePlan(ctx context.Context, rec *PlanRecord) error {
	body, err := json.Marshal(rec.Plan)
	if err != nil {
		return fmt.Errorf("encode plan: %w", err)
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO failover_plans (id, fleet, fleet_version, region, fraction, status, body, plan_ms,
		created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, rec.ID, rec.Fleet, rec.FleetVersion, rec.Region, rec.Fraction,
		rec.Status, string(body), rec.PlanSeconds*1000, rec.CreatedAt.UnixMilli(), rec.CreatedBy)
	if err != nil {
		return fmt.Errorf("store plan %s: %w", rec.ID, err)
	}
	return nil
}

// Plan returns a stored plan.
func (s *Service) Plan(ctx context.Context, id string) (*PlanRecord, error) {
	rec := &PlanRecord{ID: id}
	var body string
	var ms float64
	var at int64
	err := s.db.QueryRowContext(ctx, `SELECT fleet, fleet_version, body, plan_ms, created_at, created_by FROM failover_plans WHERE id = ?`, id).
		Scan(&rec.Fleet, &rec.FleetVersion, &body, &ms, &at, &rec.CreatedBy)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("plan %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("load plan %s: %w", id, err)
	}
	rec.PlanSeconds, rec.CreatedAt = ms/1000, time.UnixMilli(at).UTC()
	rec.Plan = &plan.Plan{}
	if err := json.Unmarshal([]byte(body), rec.Plan); err != nil {
		return nil, fmt.Errorf("decode plan %s: %w", id, err)
	}
	return rec, nil
}

// Plans lists plans, newest first, created before the cursor time (0 for
// the newest).
func (s *Service) Plans(ctx context.Context, fleetName string, before int64, limit int) ([]PlanSummary, int64, error) {
	if before <= 0 {
		before = 1 << 62
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, fleet, fleet_version, region, fraction, status, plan_ms, created_at, created_by
		FROM failover_plans WHERE created_at < ? AND (fleet = ? OR ? = '') ORDER BY created_at DESC, id LIMIT ?`,
		before, fleetName, fleetName, limit+1)
	if err != nil {
		return nil, 0, fmt.Errorf("list plans: %w", err)
	}
	defer rows.Close()
	out := []PlanSummary{}
	var next int64
	for rows.Next() {
		var p PlanSummary
		var ms float64
		var at int64
		if err := rows.Scan(&p.ID, &p.Fleet, &p.FleetVersion, &p.Region, &p.Fraction, &p.Status, &ms, &at, &p.CreatedBy); err != nil {
			return nil, 0, fmt.Errorf("list plans: %w", err)
		}
		if len(out) == limit {
			next = out[len(out)-1].CreatedAt.UnixMilli()
			break
		}
		p.PlanSeconds, p.CreatedAt = ms/1000, time.UnixMilli(at).UTC()
		out = append(out, p)
	}
	return out, next, rows.Err()
}
