package workflow

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/store"
	"github.com/gaffer-sre/gaffer/orchestration/workflow/definition"
)

// Errors the API maps to statuses.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
)

// Applied is the answer to an apply.
type Applied struct {
	ID      string `json:"id"`
	Version int    `json:"version"`
	// Unchanged is true when the definition equals the active version
	// (no new version is made).
	Unchanged bool `json:"unchanged,omitempty"`
}

// Workflow is a workflow's summary.
type Workflow struct {
	ID          string `json:"id"`
	Name        string `json:"name,omitempty"`
	Description string `json:"description,omitempty"`
	Owner       string `json:"owner,omitempty"`
	Latest      int    `json:"latest_version"`
	Active      int    `json:"active_version"`
	Steps       int    `json:"steps"`
	// NextRuns are when the time triggers fire next (on GET of one
	// workflow).
	NextRuns []time.Time `json:"next_runs,omitempty"`
	// Definition is the active version's (on GET of one workflow).
	Definition *definition.Definition `json:"definition,omitempty"`
}

// Version is one applied version.
type Version struct {
	Version   int    `json:"version"`
	CreatedBy string `json:"created_by"`
	CreatedAt int64  `json:"created_at_ms"`
	Active    bool   `json:"active"`
}

// Apply checks a definition and stores it as the workflow's next
// version, made active; a definition equal to the active one makes no
// version. Nothing is stored when any check fails.
func (s *Service) Apply(ctx context.Context, file string, src []byte, by string) (Applied, error) {
	d, err := definition.Parse(file, src)
	if err != nil {
		return Applied{}, err
	}
	if err := s.resolveTemplates(ctx, s.db, file, d); err != nil {
		return Applied{}, err
	}
	if err := definition.Check(d, definition.CheckOptions{File: file, Compile: compileCheck}); err != nil {
		return Applied{}, err
	}
	canon, err := json.Marshal(d)
	if err != nil {
		return Applied{}, fmt.Errorf("encode the definition: %w", err)
	}
	id := d.Workflow.ID
	var out Applied
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		var latest, active int
		err := tx.QueryRowContext(ctx, `SELECT latest, active FROM workflow_workflows WHERE id = ?`, id).Scan(&latest, &active)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			if _, err := tx.ExecContext(ctx, `INSERT INTO workflow_workflows (id, latest, active, next_instance, created_at, updated_at)
				VALUES (?, 0, 0, 1, ?, ?)`, id, s.nowMS(), s.nowMS()); err != nil {
				return err
			}
		case err != nil:
			return err
		default:
			var prev string
			if err := tx.QueryRowContext(ctx, `SELECT definition FROM workflow_versions WHERE workflow_id = ? AND version = ?`,
				id, active).Scan(&prev); err != nil {
				return err
			}
			if prev == string(canon) {
				out = Applied{ID: id, Version: active, Unchanged: true}
				return nil
			}
		}
		v := latest + 1
		if _, err := tx.ExecContext(ctx, `INSERT INTO workflow_versions (workflow_id, version, definition, created_by, created_at)
			VALUES (?, ?, ?, ?, ?)`, id, v, string(canon), by, s.nowMS()); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE workflow_workflows SET latest = ?, active = ?, updated_at = ? WHERE id = ?`,
			v, v, s.nowMS(), id); err != nil {
			return err
		}
		out = Applied{ID: id, Version: v}
		return s.syncTriggers(ctx, tx, id)
	})
	if err != nil {
		return Applied{}, fmt.Errorf("apply workflow %s: %w", id, err)
	}
	return out, nil
}

// Activate makes version the one new instances run (a rollback), with
// its time triggers.
func (s *Service) Activate(ctx context.Context, id string, version int) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE workflow_workflows SET active = ?, updated_at = ? WHERE id = ?
			AND EXISTS (SELECT 1 FROM workflow_versions WHERE workflow_id = ? AND version = ?)`, version, s.nowMS(), id, id, version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("workflow %s version %d: %w", id, version, ErrNotFound)
		}
		return s.syncTriggers(ctx, tx, id)
	})
}

// Workflows lists the workflows, by id.
func (s *Service) Workflows(ctx context.Context) ([]Workflow, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT w.id, w.latest, w.active, v.definition FROM workflow_workflows w
		JOIN workflow_versions v ON v.workflow_id = w.id AND v.version = w.active ORDER BY w.id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Workflow{}
	for rows.Next() {
		var w Workflow
		var def string
		if err := rows.Scan(&w.ID, &w.Latest, &w.Active, &def); err != nil {
			return nil, err
		}
		d, err := definition.Parse(w.ID, []byte(def))
		if err != nil {
			return nil, fmt.Errorf("workflow %s: %w", w.ID, err)
		}
		w.Name, w.Description, w.Owner, w.Steps = d.Workflow.Name, d.Workflow.Description, d.Properties.Owner, len(d.Workflow.Steps)
		out = append(out, w)
	}
	return out, rows.Err()
}

// Get returns a workflow with its active definition.
func (s *Service) Get(ctx context.Context, id string) (*Workflow, error) {
	w := &Workflow{ID: id}
	err := s.db.QueryRowContext(ctx, `SELECT latest, active FROM workflow_workflows WHERE id = ?`, id).Scan(&w.Latest, &w.Active)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("workflow %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	c, err := s.version(ctx, s.db, id, w.Active)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT next_at FROM workflow_time_triggers WHERE workflow_id = ? ORDER BY next_at`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var at int64
		if err := rows.Scan(&at); err != nil {
			return nil, err
		}
		w.NextRuns = append(w.NextRuns, time.UnixMilli(at).UTC())
	}
	w.Definition = c.def
	w.Name, w.Description, w.Owner, w.Steps = c.def.Workflow.Name, c.def.Workflow.Description, c.def.Properties.Owner, len(c.def.Workflow.Steps)
	return w, nil
}

// Versions lists a workflow's versions, newest first.
func (s *Service) Versions(ctx context.Context, id string) ([]Version, error) {
	var active int
	if err := s.db.QueryRowContext(ctx, `SELECT active FROM workflow_workflows WHERE id = ?`, id).Scan(&active); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("workflow %q: %w", id, ErrNotFound)
		}
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT version, created_by, created_at FROM workflow_versions WHERE workflow_id = ?
		ORDER BY version DESC`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Version{}
	for rows.Next() {
		var v Version
		if err := rows.Scan(&v.Version, &v.CreatedBy, &v.CreatedAt); err != nil {
			return nil, err
		}
		v.Active = v.Version == active
		out = append(out, v)
	}
	return out, rows.Err()
}

// version returns a version's compiled definition, cached.
func (s *Service) version(ctx context.Context, q querier, id string, v int) (*compiled, error) {
	key := versionKey{id, v}
	s.mu.Lock()
	c := s.compiled[key]
	s.mu.Unlock()
	if c != nil {
		return c, nil
	}
	var src string
	err := q.QueryRowContext(ctx, `SELECT definition FROM workflow_versions WHERE workflow_id = ? AND version = ?`, id, v).Scan(&src)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("workflow %s version %d: %w", id, v, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	d, err := definition.Parse(fmt.Sprintf("%s@%d", id, v), []byte(src))
	if err != nil {
		return nil, fmt.Errorf("workflow %s version %d: %w", id, v, err)
	}
	c = compile(d)
	s.mu.Lock()
	s.compiled[key] = c
	s.mu.Unlock()
	return c, nil
}

// querier is the store or a transaction.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}
