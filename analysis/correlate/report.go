package correlate

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/store"
)

// ErrNotFound is returned for an unknown report.
var ErrNotFound = errors.New("no such report")

const reportColumns = "id, title, status, error, request, shards, shards_done, candidates, created_by, created_at, completed_at"

func scanReport(row interface{ Scan(...any) error }, withSummary bool) (*Report, error) {
	var r Report
	var req, summary string
	var created int64
	var completed sql.NullInt64
	dest := []any{&r.ID, &r.Title, &r.Status, &r.Error, &req, &r.Shards, &r.ShardsDone, &r.Candidates, &r.CreatedBy, &created, &completed}
	if withSummary {
		dest = append(dest, &summary)
	}
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(req), &r.Request); err != nil {
		return nil, fmt.Errorf("report %s: decode request: %w", r.ID, err)
	}
	r.CreatedAt = time.UnixMilli(created).UTC()
	if completed.Valid {
		t := time.UnixMilli(completed.Int64).UTC()
		r.CompletedAt = &t
	}
	if withSummary && summary != "" {
		r.Summary = &Summary{}
		if err := json.Unmarshal([]byte(summary), r.Summary); err != nil {
			return nil, fmt.Errorf("report %s: decode summary: %w", r.ID, err)
		}
	}
	return &r, nil
}

// Report returns a report with its summary.
func (s *Service) Report(ctx context.Context, id string) (*Report, error) {
	row := s.st.QueryRowContext(ctx, "SELECT "+reportColumns+", summary FROM analysis_reports WHERE id = ?", id)
	r, err := scanReport(row, true)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("report %q: %w", id, ErrNotFound)
	}
	return r, err
}

// Reports lists reports, newest first, without their summaries.
func (s *Service) Reports(ctx context.Context, f Filter) ([]Report, error) {
	q := "SELECT " + reportColumns + " FROM analysis_reports WHERE 1 = 1"
	var args []any
	if f.RuleID != "" {
		q += " AND rule_id = ?"
		args = append(args, f.RuleID)
	}
	if f.Fingerprint != "" {
		q += " AND alert_fingerprint = ?"
		args = append(args, f.Fingerprint)
	}
	if !f.Before.IsZero() {
		q += " AND created_at < ?"
		args = append(args, f.Before.UnixMilli())
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	q += fmt.Sprintf(" ORDER BY created_at DESC, id LIMIT %d", f.Limit)
	rows, err := s.st.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list reports: %w", err)
	}
	defer rows.Close()
	out := []Report{}
	for rows.Next() {
		r, err := scanReport(rows, false)
		if err != nil {
			return nil, err
		}
		out = append(out, *r)
	}
	return out, rows.Err()
}

// Ranking returns the complete ranking of a report's candidates from
// rank offset on (limit of them), merged from every shard: best first,
// ties by the labels' text.
func (s *Service) Ranking(ctx context.Context, id string, offset, limit int) ([]Ranked, error) {
	rs, err := s.results(ctx, s.st, id)
	if err != nil {
		return nil, err
	}
	out := []Ranked{}
	for i := offset; i < len(rs) && i < offset+limit; i++ {
		out = append(out, Ranked{Rank: i + 1, Labels: rs[i].labels, Score: rs[i].score})
	}
	return out, nil
}

// preparing lists reports whose series are still to be read.
func (s *Service) preparing(ctx context.Context) ([]string, error) {
	rows, err := s.st.QueryContext(ctx, "SELECT id FROM analysis_reports WHERE status = ?", StatusPreparing)
	if err != nil {
		return nil, fmt.Errorf("list analyses being prepared: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// fail marks a report failed.
func (s *Service) fail(ctx context.Context, id string, cause error) {
	s.log.Warn("analysis failed", "report", id, "error", cause)
	_, err := s.st.ExecContext(ctx, "UPDATE analysis_reports SET status = ?, error = ?, completed_at = ? WHERE id = ? AND status <> ?",
		StatusFailed, cause.Error(), s.now().UnixMilli(), id, StatusComplete)
	if err != nil {
		s.log.Error("record a failed analysis", "report", id, "error", err)
	}
}

// querier is the store or a transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

var _ querier = (*store.Tx)(nil)
