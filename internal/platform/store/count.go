package store

import (
	"context"
	"database/sql"
	"fmt"
)

// Querier runs a query: a *Store, a *sql.DB or a transaction.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// CountBy runs query, which must select a text key and a count (SELECT
// k, COUNT(*) ... GROUP BY k), and returns the counts by key.
func CountBy(ctx context.Context, q Querier, query string, args ...any) (map[string]int, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("count: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var key string
		var n int
		if err := rows.Scan(&key, &n); err != nil {
			return nil, fmt.Errorf("count: %w", err)
		}
		out[key] = n
	}
	return out, rows.Err()
}
