package events

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/gaffer-sre/gaffer/internal/platform/store"
)

// suppressor keeps suppression budgets in the database, so that they hold
// across restarts and across the processes sharing the stream.
//
// A group (a rule's suppress action and a key) gets a window that starts
// with its first event and lasts the action's window; the first limit
// events of the window pass, the rest are suppressed. Time is the time the
// stream received the event, so a backlog processed after an outage is
// judged as it arrived. The decision for each event is stored too, so
// that a redelivered event gets the same answer instead of spending the
// budget twice (or being suppressed by its own first delivery).
type suppressor struct {
	db *store.Store
}

func hashKey(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// groupKey evaluates the action's key for the event.
func groupKey(r *compiledRule, a *compiledAction, act *activation) string {
	if a.key == nil {
		return ""
	}
	k, err := evalString(a.key, act)
	if err != nil {
		// Events whose key cannot be computed share one group.
		r.stats.evalError(fmt.Errorf("actions[%d].key: %w", a.index, err))
		return "\x00error"
	}
	return k
}

// decide reports whether the event passes the suppress action.
func (sp *suppressor) decide(ctx context.Context, r *compiledRule, a *compiledAction, act *activation) (bool, error) {
	group := hashKey(groupKey(r, a, act))
	event := hashKey(act.ev.Source, act.ev.ID)
	at := act.received.UnixMilli()
	var pass bool
	var err error
	for try := 0; try < 3; try++ {
		err = sp.db.InTx(ctx, func(tx *store.Tx) error {
			var e error
			pass, e = sp.decideTx(ctx, tx, r.rule.ID, a, group, event, at)
			return e
		})
		if !store.IsUniqueViolation(err) {
			break // a concurrent first event of the group: try again
		}
	}
	if err != nil {
		return false, fmt.Errorf("events: suppress decision for rule %s: %w", r.rule.Name, err)
	}
	return pass, nil
}

func (sp *suppressor) decideTx(ctx context.Context, tx *store.Tx, ruleID string, a *compiledAction, group, event string, at int64) (bool, error) {
	var passed int
	err := tx.QueryRowContext(ctx, `SELECT passed FROM event_suppress_decisions
		WHERE rule_id = ? AND action_index = ? AND event_key = ?`, ruleID, a.index, event).Scan(&passed)
	if err == nil {
		return passed == 1, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return false, err
	}
	lock := ""
	if sp.db.Dialect == store.Postgres {
		lock = " FOR UPDATE"
	}
	var start, end int64
	var n int
	err = tx.QueryRowContext(ctx, `SELECT window_start, window_end, passed FROM event_suppress
		WHERE rule_id = ? AND action_index = ? AND group_key = ?`+lock, ruleID, a.index, group).Scan(&start, &end, &n)
	window := a.window.Milliseconds()
	pass := true
	switch {
	case errors.Is(err, sql.ErrNoRows):
		end = at + window
		_, err = tx.ExecContext(ctx, `INSERT INTO event_suppress (rule_id, action_index, group_key, window_start,
			window_end, passed, suppressed) VALUES (?, ?, ?, ?, ?, 1, 0)`, ruleID, a.index, group, at, end)
	case err != nil:
	case at >= end:
		end = at + window
		_, err = tx.ExecContext(ctx, `UPDATE event_suppress SET window_start = ?, window_end = ?, passed = 1,
			suppressed = 0 WHERE rule_id = ? AND action_index = ? AND group_key = ?`, at, end, ruleID, a.index, group)
	case n < a.limit:
		_, err = tx.ExecContext(ctx, `UPDATE event_suppress SET passed = passed + 1
			WHERE rule_id = ? AND action_index = ? AND group_key = ?`, ruleID, a.index, group)
	default:
		pass = false
		_, err = tx.ExecContext(ctx, `UPDATE event_suppress SET suppressed = suppressed + 1
			WHERE rule_id = ? AND action_index = ? AND group_key = ?`, ruleID, a.index, group)
	}
	if err != nil {
		return false, err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO event_suppress_decisions (rule_id, action_index, event_key, passed, expires)
		VALUES (?, ?, ?, ?, ?)`, ruleID, a.index, event, boolInt(pass), max(end, at+window))
	return pass, err
}
