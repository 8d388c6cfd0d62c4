package alerting

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/store"
)

// ErrNotFound is returned for an unknown rule, silence or inhibition.
var ErrNotFound = errors.New("not found")

// StoredRule is a rule with what the store keeps about it.
type StoredRule struct {
	*Rule
	Source    string    `json:"source"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	CreatedBy string    `json:"created_by"`
	UpdatedBy string    `json:"updated_by"`
}

func newID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

const ruleColumns = "id, spec, version, source, created_at, updated_at, created_by, updated_by"

type scanner interface{ Scan(...any) error }

func scanRule(row scanner) (*StoredRule, error) {
	var id, spec string
	var version, created, updated int64
	sr := &StoredRule{}
	if err := row.Scan(&id, &spec, &version, &sr.Source, &created, &updated, &sr.CreatedBy, &sr.UpdatedBy); err != nil {
		return nil, err
	}
	var sp Spec
	if err := json.Unmarshal([]byte(spec), &sp); err != nil {
		return nil, fmt.Errorf("rule %s: decode spec: %w", id, err)
	}
	r, err := Compile(sp)
	if err != nil {
		return nil, fmt.Errorf("rule %s no longer compiles: %w", id, err)
	}
	r.ID, r.Version = id, version
	sr.Rule = r
	sr.CreatedAt, sr.UpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	return sr, nil
}

// loadRules reads every rule.
func (s *Service) loadRules(ctx context.Context) ([]*StoredRule, error) {
	rows, err := s.st.QueryContext(ctx, "SELECT "+ruleColumns+" FROM alert_rules ORDER BY grp, name, id")
	if err != nil {
		return nil, fmt.Errorf("load rules: %w", err)
	}
	defer rows.Close()
	var out []*StoredRule
	for rows.Next() {
		r, err := scanRule(rows)
		if err != nil {
			s.log.Error("skipping a stored rule", "error", err)
			continue
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// getRule reads one rule.
func (s *Service) getRule(ctx context.Context, id string) (*StoredRule, error) {
	r, err := scanRule(s.st.QueryRowContext(ctx, "SELECT "+ruleColumns+" FROM alert_rules WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("rule %q: %w", id, ErrNotFound)
	}
	return r, err
}

// putRule creates (id "" for a new one) or replaces a rule.
func (s *Service) putRule(ctx context.Context, id string, spec Spec, source, by string) (*StoredRule, bool, error) {
	r, err := Compile(spec)
	if err != nil {
		return nil, false, err
	}
	b, err := json.Marshal(r.Spec)
	if err != nil {
		return nil, false, err
	}
	created := false
	now := s.now().UnixMilli()
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		if id == "" {
			id = newID()
		}
		res, err := tx.ExecContext(ctx, `UPDATE alert_rules SET name = ?, grp = ?, spec = ?, enabled = ?, version = version + 1,
			source = ?, updated_at = ?, updated_by = ? WHERE id = ?`, r.Spec.Name, r.Spec.Group, string(b), boolInt(r.Enabled()), source, now, by, id)
		if err != nil {
			return fmt.Errorf("update rule: %w", err)
		}
		if n, _ := res.RowsAffected(); n > 0 {
			return nil
		}
		created = true
		_, err = tx.ExecContext(ctx, `INSERT INTO alert_rules (id, name, grp, spec, enabled, version, source, created_at, updated_at,
			created_by, updated_by, last_error, error_at) VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, '', 0)`,
			id, r.Spec.Name, r.Spec.Group, string(b), boolInt(r.Enabled()), source, now, now, by, by)
		if err != nil {
			return fmt.Errorf("create rule: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	sr, err := s.getRule(ctx, id)
	return sr, created, err
}

// deleteRule removes a rule and its alerts (their history stays).
func (s *Service) deleteRule(ctx context.Context, id string) error {
	return s.st.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM alert_rules WHERE id = ?", id)
		if err != nil {
			return fmt.Errorf("delete rule: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("rule %q: %w", id, ErrNotFound)
		}
		_, err = tx.ExecContext(ctx, "DELETE FROM alert_instances WHERE rule_id = ?", id)
		return err
	})
}

// ruleVersions reads every rule's version, to notice changes made by
// other processes.
func (s *Service) ruleVersions(ctx context.Context) (map[string]int64, error) {
	rows, err := s.st.QueryContext(ctx, "SELECT id, version FROM alert_rules")
	if err != nil {
		return nil, fmt.Errorf("rule versions: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var id string
		var v int64
		if err := rows.Scan(&id, &v); err != nil {
			return nil, err
		}
		out[id] = v
	}
	return out, rows.Err()
}

// setRuleError records a rule's run-time error ("" when it recovered).
func (s *Service) setRuleError(ctx context.Context, id, msg string, at time.Time) {
	if _, err := s.st.ExecContext(ctx, "UPDATE alert_rules SET last_error = ?, error_at = ? WHERE id = ?", msg, at.UnixMilli(), id); err != nil {
		s.log.Warn("record a rule's error", "rule", id, "error", err)
	}
}

// ruleErrors reads the recorded run-time errors.
func (s *Service) ruleErrors(ctx context.Context) (map[string]string, error) {
	rows, err := s.st.QueryContext(ctx, "SELECT id, last_error FROM alert_rules WHERE last_error <> ''")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, msg string
		if err := rows.Scan(&id, &msg); err != nil {
			return nil, err
		}
		out[id] = msg
	}
	return out, rows.Err()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func nullFloat(v float64) any {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return v
}

func nullTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMilli()
}

func timePtr(n sql.NullInt64) *time.Time {
	if !n.Valid {
		return nil
	}
	t := time.UnixMilli(n.Int64).UTC()
	return &t
}

// saveChanges writes changed alerts and transitions in one transaction.
func saveChanges(ctx context.Context, tx *store.Tx, alerts []*Alert, gone []*Alert, ts []Transition) error {
	for _, a := range alerts {
		ls, _ := json.Marshal(a.Labels)
		sls, _ := json.Marshal(a.SeriesLabels)
		an, _ := json.Marshal(a.Annotations)
		res, err := tx.ExecContext(ctx, `UPDATE alert_instances SET labels = ?, series_labels = ?, annotations = ?, state = ?, value = ?,
			active_at = ?, fired_at = ?, resolved_at = ?, last_seen = ?, report_id = ? WHERE rule_id = ? AND fingerprint = ?`,
			string(ls), string(sls), string(an), string(a.State), nullFloat(a.Value), a.ActiveAt.UnixMilli(), nullTime(a.FiredAt),
			nullTime(a.ResolvedAt), a.LastSeen.UnixMilli(), a.ReportID, a.RuleID, a.Fingerprint)
		if err != nil {
			return fmt.Errorf("save alert: %w", err)
		}
		if n, _ := res.RowsAffected(); n > 0 {
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO alert_instances (rule_id, fingerprint, labels, series_labels, annotations, state, value,
			active_at, fired_at, resolved_at, last_seen, report_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			a.RuleID, a.Fingerprint, string(ls), string(sls), string(an), string(a.State), nullFloat(a.Value), a.ActiveAt.UnixMilli(),
			nullTime(a.FiredAt), nullTime(a.ResolvedAt), a.LastSeen.UnixMilli(), a.ReportID); err != nil {
			return fmt.Errorf("save alert: %w", err)
		}
	}
	for _, a := range gone {
		if _, err := tx.ExecContext(ctx, "DELETE FROM alert_instances WHERE rule_id = ? AND fingerprint = ?", a.RuleID, a.Fingerprint); err != nil {
			return fmt.Errorf("forget alert: %w", err)
		}
	}
	for _, t := range ts {
		ls, _ := json.Marshal(t.Labels)
		if _, err := tx.ExecContext(ctx, `INSERT INTO alert_history (rule_id, fingerprint, labels, from_state, to_state, at, value)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, t.RuleID, t.Fingerprint, string(ls), string(t.From), string(t.To), t.At.UnixMilli(), nullFloat(t.Value)); err != nil {
			return fmt.Errorf("record transition: %w", err)
		}
	}
	return nil
}

// loadAlerts reads the stored alerts of every rule.
func (s *Service) loadAlerts(ctx context.Context) (map[string][]*Alert, error) {
	rows, err := s.st.QueryContext(ctx, `SELECT rule_id, fingerprint, labels, series_labels, annotations, state, value, active_at,
		fired_at, resolved_at, last_seen, report_id FROM alert_instances`)
	if err != nil {
		return nil, fmt.Errorf("load alerts: %w", err)
	}
	defer rows.Close()
	out := map[string][]*Alert{}
	for rows.Next() {
		a := &Alert{}
		var ls, sls, an, state string
		var value sql.NullFloat64
		var active, seen int64
		var fired, resolved sql.NullInt64
		if err := rows.Scan(&a.RuleID, &a.Fingerprint, &ls, &sls, &an, &state, &value, &active, &fired, &resolved, &seen, &a.ReportID); err != nil {
			return nil, err
		}
		json.Unmarshal([]byte(ls), &a.Labels)
		json.Unmarshal([]byte(sls), &a.SeriesLabels)
		json.Unmarshal([]byte(an), &a.Annotations)
		a.State, a.Value = State(state), math.NaN()
		if value.Valid {
			a.Value = value.Float64
		}
		a.ActiveAt, a.LastSeen = time.UnixMilli(active).UTC(), time.UnixMilli(seen).UTC()
		a.FiredAt, a.ResolvedAt = timePtr(fired), timePtr(resolved)
		out[a.RuleID] = append(out[a.RuleID], a)
	}
	return out, rows.Err()
}

// History returns a rule's transitions from since on, oldest first.
func (s *Service) History(ctx context.Context, ruleID string, since time.Time, limit int) ([]Transition, error) {
	rows, err := s.st.QueryContext(ctx, fmt.Sprintf(`SELECT fingerprint, labels, from_state, to_state, at, value FROM alert_history
		WHERE rule_id = ? AND at >= ? ORDER BY at, id LIMIT %d`, limit), ruleID, since.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	defer rows.Close()
	out := []Transition{}
	for rows.Next() {
		t := Transition{RuleID: ruleID}
		var ls, from, to string
		var at int64
		var v sql.NullFloat64
		if err := rows.Scan(&t.Fingerprint, &ls, &from, &to, &at, &v); err != nil {
			return nil, err
		}
		json.Unmarshal([]byte(ls), &t.Labels)
		t.From, t.To, t.At, t.Value = State(from), State(to), time.UnixMilli(at).UTC(), math.NaN()
		if v.Valid {
			t.Value = v.Float64
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// meta reads a stored fact ("" when there is none).
func (s *Service) meta(ctx context.Context, name string) (string, error) {
	var v string
	err := s.st.QueryRowContext(ctx, "SELECT value FROM alert_meta WHERE name = ?", name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return v, err
}

// setMeta stores a fact.
func (s *Service) setMeta(ctx context.Context, name, value string) error {
	return s.st.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE alert_meta SET value = ? WHERE name = ?", value, name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			_, err = tx.ExecContext(ctx, "INSERT INTO alert_meta (name, value) VALUES (?, ?)", name, value)
		}
		return err
	})
}
