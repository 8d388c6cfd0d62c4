package events

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/bus"
	"github.com/gaffer-sre/gaffer/internal/platform/store"
)

// Dead-letter states.
const (
	// DeadLetterDead is a delivery that failed for good.
	DeadLetterDead = "dead"
	// DeadLetterRedriving is a dead letter being delivered again.
	DeadLetterRedriving = "redriving"
	// DeadLetterDelivered is a dead letter whose re-drive succeeded.
	DeadLetterDelivered = "delivered"
)

// DeadLetter is an action that failed for good for one event: a webhook
// whose retries ran out (or that answered a permanent error), a publish
// stopped by the loop guard or a failing transform, a job that could not
// be enqueued. It stays until re-driven.
type DeadLetter struct {
	ID          int64           `json:"id"`
	Status      string          `json:"status"`
	RuleID      string          `json:"rule_id"`
	RuleName    string          `json:"rule_name"`
	ActionIndex int             `json:"action_index"`
	Action      Action          `json:"action"`
	Event       json.RawMessage `json:"event"`
	EventID     string          `json:"event_id"`
	EventType   string          `json:"event_type"`
	EventSource string          `json:"event_source"`
	// Attempts made, all re-drives included.
	Attempts  int       `json:"attempts"`
	Error     string    `json:"error"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Redrives  int       `json:"redrives"`
	// JobID is the job of the last webhook re-drive.
	JobID *int64 `json:"job_id,omitempty"`
}

// ErrDeadLetterNotFound is returned for an unknown dead letter.
var ErrDeadLetterNotFound = errors.New("dead letter not found")

type deadLetters struct {
	db *store.Store
}

// newDeadLetter describes a failed action of rule r for ev.
func newDeadLetter(r *Rule, a *compiledAction, ev *bus.Event, attempts int, cause error) (*DeadLetter, error) {
	body, err := ev.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("events: encode dead-lettered event: %w", err)
	}
	return &DeadLetter{Status: DeadLetterDead, RuleID: r.ID, RuleName: r.Name, ActionIndex: a.index, Action: a.written,
		Event: body, EventID: ev.ID, EventType: ev.Type, EventSource: ev.Source, Attempts: attempts,
		Error: truncate(cause.Error(), 2000)}, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// add stores a new dead letter.
func (d *deadLetters) add(ctx context.Context, dl *DeadLetter) error {
	action, err := json.Marshal(dl.Action)
	if err != nil {
		return fmt.Errorf("events: encode dead-letter action: %w", err)
	}
	now := time.Now().UnixMilli()
	_, err = d.db.ExecContext(context.WithoutCancel(ctx), `INSERT INTO event_deadletters (status, rule_id, rule_name,
		action_index, action, event, event_id, event_type, event_source, attempts, error, created_at, updated_at, redrives)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)`,
		dl.Status, dl.RuleID, dl.RuleName, dl.ActionIndex, string(action), string(dl.Event), dl.EventID, dl.EventType,
		dl.EventSource, dl.Attempts, dl.Error, now, now)
	if err != nil {
		return fmt.Errorf("events: store dead letter for rule %s, event %s: %w", dl.RuleID, dl.EventID, err)
	}
	return nil
}

// deadLetterChange is what a re-drive changes in a dead letter.
type deadLetterChange struct {
	status   string
	attempts int    // attempts to add
	err      string // the latest error, if any
	redrive  bool   // count a re-drive
	jobID    *int64 // the re-drive's job
}

// update records a re-drive or its outcome.
func (d *deadLetters) update(ctx context.Context, id int64, c deadLetterChange) error {
	q := `UPDATE event_deadletters SET status = ?, attempts = attempts + ?, updated_at = ?`
	args := []any{c.status, c.attempts, time.Now().UnixMilli()}
	if c.err != "" {
		q += ", error = ?"
		args = append(args, truncate(c.err, 2000))
	}
	if c.redrive {
		q += ", redrives = redrives + 1"
	}
	if c.jobID != nil {
		q += ", job_id = ?"
		args = append(args, *c.jobID)
	}
	q += " WHERE id = ?"
	args = append(args, id)
	res, err := d.db.ExecContext(context.WithoutCancel(ctx), q, args...)
	if err != nil {
		return fmt.Errorf("events: update dead letter %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("events: dead letter %d: %w", id, ErrDeadLetterNotFound)
	}
	return nil
}

const deadLetterColumns = `id, status, rule_id, rule_name, action_index, action, event, event_id, event_type,
	event_source, attempts, error, created_at, updated_at, redrives, job_id`

func scanDeadLetter(row rowScanner) (*DeadLetter, error) {
	var dl DeadLetter
	var action, event string
	var created, updated int64
	var job sql.NullInt64
	if err := row.Scan(&dl.ID, &dl.Status, &dl.RuleID, &dl.RuleName, &dl.ActionIndex, &action, &event, &dl.EventID,
		&dl.EventType, &dl.EventSource, &dl.Attempts, &dl.Error, &created, &updated, &dl.Redrives, &job); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(action), &dl.Action); err != nil {
		return nil, fmt.Errorf("dead letter %d: stored action: %w", dl.ID, err)
	}
	dl.Event = json.RawMessage(event)
	dl.CreatedAt, dl.UpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	if job.Valid {
		dl.JobID = &job.Int64
	}
	return &dl, nil
}

// get returns one dead letter.
func (d *deadLetters) get(ctx context.Context, id int64) (*DeadLetter, error) {
	dl, err := scanDeadLetter(d.db.QueryRowContext(ctx, "SELECT "+deadLetterColumns+" FROM event_deadletters WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("events: dead letter %d: %w", id, ErrDeadLetterNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("events: read dead letter %d: %w", id, err)
	}
	return dl, nil
}

// DeadLetterFilter selects dead letters.
type DeadLetterFilter struct {
	// Status is dead, redriving or delivered; empty for all.
	Status string
	RuleID string
	// Before continues a listing: dead letters with a lower ID.
	Before int64
	Limit  int
}

// list returns dead letters newest first, and the cursor of the next page
// (0 on the last).
func (d *deadLetters) list(ctx context.Context, f DeadLetterFilter) ([]*DeadLetter, int64, error) {
	q := "SELECT " + deadLetterColumns + " FROM event_deadletters WHERE 1 = 1"
	var args []any
	if f.Status != "" {
		q += " AND status = ?"
		args = append(args, f.Status)
	}
	if f.RuleID != "" {
		q += " AND rule_id = ?"
		args = append(args, f.RuleID)
	}
	if f.Before > 0 {
		q += " AND id < ?"
		args = append(args, f.Before)
	}
	q += " ORDER BY id DESC LIMIT " + strconv.Itoa(f.Limit+1)
	rows, err := d.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("events: list dead letters: %w", err)
	}
	defer rows.Close()
	var out []*DeadLetter
	for rows.Next() {
		dl, err := scanDeadLetter(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("events: list dead letters: %w", err)
		}
		out = append(out, dl)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("events: list dead letters: %w", err)
	}
	var next int64
	if len(out) > f.Limit {
		out = out[:f.Limit]
		next = out[len(out)-1].ID
	}
	return out, next, nil
}

// count returns how many dead letters have a status.
func (d *deadLetters) count(ctx context.Context, status string) (int, error) {
	var n int
	err := d.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM event_deadletters WHERE status = ?", status).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("events: count dead letters: %w", err)
	}
	return n, nil
}

// deadLetter records a permanently failed action of r for ev.
func (s *Service) deadLetter(ctx context.Context, r *compiledRule, a *compiledAction, ev *bus.Event, attempts int, cause error) error {
	dl, err := newDeadLetter(r.rule, a, ev, attempts, cause)
	if err != nil {
		return err
	}
	if err := s.deadletter.add(ctx, dl); err != nil {
		return err
	}
	r.stats.actionError(cause)
	s.log.Warn("event action dead-lettered", "rule", r.rule.Name, "action", a.index, "type", a.Type,
		"event", ev.ID, "attempts", attempts, "error", cause)
	return nil
}
