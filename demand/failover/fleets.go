package failover

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gaffer-sre/gaffer/demand/failover/fleet"
	"github.com/gaffer-sre/gaffer/internal/platform/store"
)

// Fleet kinds.
const (
	KindFleet    = "fleet"
	KindExercise = "exercise"
)

// ErrNotFound marks a fleet, plan, execution or exercise that does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict marks a change refused because of the current state.
var ErrConflict = errors.New("conflict")

// FleetInfo summarises a stored fleet.
type FleetInfo struct {
	Name      string    `json:"name"`
	Version   int       `json:"version"`
	Kind      string    `json:"kind"`
	UpdatedAt time.Time `json:"updated_at"`
	UpdatedBy string    `json:"updated_by"`
	Regions   int       `json:"regions"`
	Services  int       `json:"services"`
	Clusters  int       `json:"clusters"`
	Provider  string    `json:"provider"`
}

// StoredFleet is a fleet with its version.
type StoredFleet struct {
	FleetInfo
	Spec *fleet.Fleet `json:"spec"`
}

func info(f *fleet.Fleet, version int, kind string, at int64, by string) FleetInfo {
	n := 0
	for _, s := range f.Services {
		n += len(s.Clusters)
	}
	return FleetInfo{Name: f.Name, Version: version, Kind: kind, UpdatedAt: time.UnixMilli(at).UTC(), UpdatedBy: by,
		Regions: len(f.Regions), Services: len(f.Services), Clusters: n, Provider: f.ProviderType()}
}

// PutFleet validates f and stores it as a new version (or reports it
// unchanged). With ifVersion > 0 the current version must be ifVersion.
func (s *Service) PutFleet(ctx context.Context, f *fleet.Fleet, kind, by, note string, ifVersion int) (FleetInfo, bool, error) {
	if err := f.Validate(); err != nil {
		return FleetInfo{}, false, err
	}
	if err := s.checkSecretEnv(f); err != nil {
		return FleetInfo{}, false, err
	}
	spec, err := json.Marshal(f)
	if err != nil {
		return FleetInfo{}, false, fmt.Errorf("encode fleet %s: %w", f.Name, err)
	}
	now := s.now().UnixMilli()
	var out FleetInfo
	changed := false
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		var version int
		var old, oldKind string
		err := tx.QueryRowContext(ctx, "SELECT version, spec, kind FROM failover_fleets WHERE name = ?"+forUpdate(s.db), f.Name).
			Scan(&version, &old, &oldKind)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			if ifVersion > 0 {
				return fmt.Errorf("%w: fleet %s does not exist (expected version %d)", ErrConflict, f.Name, ifVersion)
			}
			changed = true
			version = 1
			if _, err := tx.ExecContext(ctx, `INSERT INTO failover_fleets (name, version, kind, spec, created_at, updated_at, updated_by)
				VALUES (?, 1, ?, ?, ?, ?, ?)`, f.Name, kind, string(spec), now, now, by); err != nil {
				return err
			}
		case err != nil:
			return err
		default:
			if ifVersion > 0 && ifVersion != version {
				return fmt.Errorf("%w: fleet %s is at version %d, not %d", ErrConflict, f.Name, version, ifVersion)
			}
			if oldKind != kind {
				return fmt.Errorf("%w: %s is an %s fleet", ErrConflict, f.Name, oldKind)
			}
			if bytes.Equal([]byte(old), spec) {
				out = info(f, version, kind, now, by)
				return nil
			}
			changed = true
			version++
			if _, err := tx.ExecContext(ctx, `UPDATE failover_fleets SET version = ?, spec = ?, updated_at = ?, updated_by = ? WHERE name = ?`,
				version, string(spec), now, by, f.Name); err != nil {
				return err
			}
		}
		out = info(f, version, kind, now, by)
		_, err = tx.ExecContext(ctx, `INSERT INTO failover_fleet_versions (name, version, spec, created_at, created_by, note)
			VALUES (?, ?, ?, ?, ?, ?)`, f.Name, version, string(spec), now, by, note)
		return err
	})
	if err != nil {
		return FleetInfo{}, false, fmt.Errorf("store fleet %s: %w", f.Name, err)
	}
	return out, changed, nil
}

// Fleet returns the current version of a fleet.
func (s *Service) Fleet(ctx context.Context, name string) (*StoredFleet, error) {
	var version int
	var kind, spec, by string
	var at int64
	err := s.db.QueryRowContext(ctx, "SELECT version, kind, spec, updated_at, updated_by FROM failover_fleets WHERE name = ?", name).
		Scan(&version, &kind, &spec, &at, &by)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("fleet %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("load fleet %s: %w", name, err)
	}
	f, err := decodeFleet(spec)
	if err != nil {
		return nil, err
	}
	return &StoredFleet{FleetInfo: info(f, version, kind, at, by), Spec: f}, nil
}

// FleetVersion returns one version of a fleet.
func (s *Service) FleetVersion(ctx context.Context, name string, version int) (*fleet.Fleet, error) {
	var spec string
	err := s.db.QueryRowContext(ctx, "SELECT spec FROM failover_fleet_versions WHERE name = ? AND version = ?", name, version).Scan(&spec)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("fleet %q version %d: %w", name, version, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("load fleet %s version %d: %w", name, version, err)
	}
	return decodeFleet(spec)
}

func decodeFleet(spec string) (*fleet.Fleet, error) {
	var f fleet.Fleet
	if err := json.Unmarshal([]byte(spec), &f); err != nil {
		return nil, fmt.Errorf("decode stored fleet: %w", err)
	}
	return &f, nil
}

// Fleets lists the fleets of a kind ("" for all), by name.
func (s *Service) Fleets(ctx context.Context, kind string) ([]FleetInfo, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name, version, kind, spec, updated_at, updated_by FROM failover_fleets
		WHERE kind = ? OR ? = '' ORDER BY name`, kind, kind)
	if err != nil {
		return nil, fmt.Errorf("list fleets: %w", err)
	}
	defer rows.Close()
	out := []FleetInfo{}
	for rows.Next() {
		var name, k, spec, by string
		var version int
		var at int64
		if err := rows.Scan(&name, &version, &k, &spec, &at, &by); err != nil {
			return nil, fmt.Errorf("list fleets: %w", err)
		}
		f, err := decodeFleet(spec)
		if err != nil {
			return nil, err
		}
		out = append(out, info(f, version, k, at, by))
	}
	return out, rows.Err()
}

// DeleteFleet removes a fleet and its versions; plans and executions
// keep what they need.
func (s *Service) DeleteFleet(ctx context.Context, name string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM failover_fleets WHERE name = ?", name)
		if err != nil {
			return fmt.Errorf("delete fleet %s: %w", name, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("fleet %q: %w", name, ErrNotFound)
		}
		return nil
	})
}

// forUpdate locks selected rows on PostgreSQL; SQLite transactions are
// already exclusive.
func forUpdate(db *store.Store) string {
	if db.Dialect == store.Postgres {
		return " FOR UPDATE"
	}
	return ""
}
