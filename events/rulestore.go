package events

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/store"
)

// ErrRuleNotFound is returned for an unknown rule ID.
var ErrRuleNotFound = errors.New("rule not found")

// ErrRuleNameTaken is returned when another rule has the name.
var ErrRuleNameTaken = errors.New("another rule has this name")

// ruleStore keeps rules in the database.
type ruleStore struct {
	db *store.Store
}

func newRuleID() string {
	var b [8]byte
	rand.Read(b[:])
	return "rule_" + hex.EncodeToString(b[:])
}

const ruleColumns = `id, name, description, condition, actions, enabled, version, created_at, updated_at, created_by, updated_by`

type rowScanner interface{ Scan(dest ...any) error }

func scanRule(row rowScanner) (*Rule, error) {
	var r Rule
	var actions string
	var enabled int
	var created, updated int64
	if err := row.Scan(&r.ID, &r.Name, &r.Description, &r.Condition, &actions, &enabled, &r.Version,
		&created, &updated, &r.CreatedBy, &r.UpdatedBy); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(actions), &r.Actions); err != nil {
		return nil, fmt.Errorf("rule %s: stored actions: %w", r.ID, err)
	}
	r.Enabled = enabled != 0
	r.CreatedAt, r.UpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	return &r, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// bumpGeneration records that rules changed, inside the change's
// transaction.
func bumpGeneration(ctx context.Context, tx *store.Tx) error {
	if _, err := tx.ExecContext(ctx, "UPDATE event_rules_generation SET generation = generation + 1 WHERE id = 1"); err != nil {
		return fmt.Errorf("events: bump rule generation: %w", err)
	}
	return nil
}

// generation returns the rule generation.
func (s *ruleStore) generation(ctx context.Context) (int64, error) {
	var g int64
	err := s.db.QueryRowContext(ctx, "SELECT generation FROM event_rules_generation WHERE id = 1").Scan(&g)
	if err != nil {
		return 0, fmt.Errorf("events: read rule generation: %w", err)
	}
	return g, nil
}

func nameTaken(err error) error {
	if store.IsUniqueViolation(err) {
		return ErrRuleNameTaken
	}
	return err
}

// create inserts r, filling its ID, version and times.
func (s *ruleStore) create(ctx context.Context, r *Rule) error {
	actions, err := json.Marshal(r.Actions)
	if err != nil {
		return fmt.Errorf("events: encode actions: %w", err)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	r.ID, r.Version, r.CreatedAt, r.UpdatedAt, r.UpdatedBy = newRuleID(), 1, now, now, r.CreatedBy
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO event_rules (`+ruleColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.ID, r.Name, r.Description, r.Condition, string(actions), boolInt(r.Enabled), r.Version,
			now.UnixMilli(), now.UnixMilli(), r.CreatedBy, r.UpdatedBy)
		if err != nil {
			return fmt.Errorf("events: create rule %q: %w", r.Name, nameTaken(err))
		}
		return bumpGeneration(ctx, tx)
	})
}

// update replaces the rule with r.ID, returning the stored rule.
func (s *ruleStore) update(ctx context.Context, r *Rule) (*Rule, error) {
	actions, err := json.Marshal(r.Actions)
	if err != nil {
		return nil, fmt.Errorf("events: encode actions: %w", err)
	}
	now := time.Now().UTC()
	var out *Rule
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE event_rules SET name = ?, description = ?, condition = ?, actions = ?,
			enabled = ?, version = version + 1, updated_at = ?, updated_by = ? WHERE id = ?`,
			r.Name, r.Description, r.Condition, string(actions), boolInt(r.Enabled), now.UnixMilli(), r.UpdatedBy, r.ID)
		if err != nil {
			return fmt.Errorf("events: update rule %s: %w", r.ID, nameTaken(err))
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("events: update rule %s: %w", r.ID, ErrRuleNotFound)
		}
		if out, err = getRule(ctx, tx, r.ID); err != nil {
			return err
		}
		return bumpGeneration(ctx, tx)
	})
	return out, err
}

// setEnabled enables or disables a rule.
func (s *ruleStore) setEnabled(ctx context.Context, id string, enabled bool, by string) (*Rule, error) {
	var out *Rule
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE event_rules SET enabled = ?, version = version + 1, updated_at = ?, updated_by = ?
			WHERE id = ?`, boolInt(enabled), time.Now().UnixMilli(), by, id)
		if err != nil {
			return fmt.Errorf("events: enable rule %s: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("events: rule %s: %w", id, ErrRuleNotFound)
		}
		if out, err = getRule(ctx, tx, id); err != nil {
			return err
		}
		return bumpGeneration(ctx, tx)
	})
	return out, err
}

// delete removes a rule.
func (s *ruleStore) delete(ctx context.Context, id string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM event_rules WHERE id = ?", id)
		if err != nil {
			return fmt.Errorf("events: delete rule %s: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("events: rule %s: %w", id, ErrRuleNotFound)
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM event_suppress WHERE rule_id = ?", id); err != nil {
			return fmt.Errorf("events: delete suppression state of rule %s: %w", id, err)
		}
		return bumpGeneration(ctx, tx)
	})
}

type queryRower interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func getRule(ctx context.Context, q queryRower, id string) (*Rule, error) {
	r, err := scanRule(q.QueryRowContext(ctx, "SELECT "+ruleColumns+" FROM event_rules WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("events: rule %s: %w", id, ErrRuleNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("events: read rule %s: %w", id, err)
	}
	return r, nil
}

// get returns one rule.
func (s *ruleStore) get(ctx context.Context, id string) (*Rule, error) {
	return getRule(ctx, s.db, id)
}

// byName returns the rule with a name, or ErrRuleNotFound.
func (s *ruleStore) byName(ctx context.Context, name string) (*Rule, error) {
	r, err := scanRule(s.db.QueryRowContext(ctx, "SELECT "+ruleColumns+" FROM event_rules WHERE name = ?", name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("events: rule named %q: %w", name, ErrRuleNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("events: read rule %q: %w", name, err)
	}
	return r, nil
}

// list returns every rule, by name.
func (s *ruleStore) list(ctx context.Context) ([]*Rule, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT "+ruleColumns+" FROM event_rules ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("events: list rules: %w", err)
	}
	defer rows.Close()
	var out []*Rule
	for rows.Next() {
		r, err := scanRule(rows)
		if err != nil {
			return nil, fmt.Errorf("events: list rules: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("events: list rules: %w", err)
	}
	return out, nil
}
