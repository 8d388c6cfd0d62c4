package workflow

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"net"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// TypeSQL is the step type that runs a statement on a PostgreSQL
// database the operator named (--workflow-sql-connection NAME=URL): a
// workflow names the connection, never holds its credentials. Params:
// connection and query (required), args (an array bound to $1, $2, …),
// read_only (a read-only transaction). A SELECT's rows become the outputs
// rows (a list of maps, at most --workflow-sql-max-rows) and row_count;
// another statement's count is rows_affected.
const TypeSQL = "sql"

// sqlBudget bounds what one statement may cost: the step's timeout (at
// most maxTime) as PostgreSQL's statement_timeout and the Go deadline,
// rows kept and bytes of output.
type sqlBudget struct {
	maxTime  time.Duration
	maxRows  int
	maxBytes int
}

// runSQL runs an sql step's statement through the egress policy.
func (s *Service) runSQL(ctx context.Context, timeout time.Duration, params map[string]any) (map[string]any, error) {
	name, _ := params["connection"].(string)
	if name == "" {
		return nil, stepErrorf("param connection: name a connection (the server's --workflow-sql-connection)")
	}
	dsn, ok := s.set.SQLConnections[name]
	if !ok {
		known := make([]string, 0, len(s.set.SQLConnections))
		for k := range s.set.SQLConnections {
			known = append(known, k)
		}
		sort.Strings(known)
		return nil, stepErrorf("param connection: no connection %q on this server (known: %s)", name, strings.Join(known, ", "))
	}
	query, _ := params["query"].(string)
	if strings.TrimSpace(query) == "" {
		return nil, stepErrorf("param query: missing")
	}
	var args []any
	if a, ok := params["args"].([]any); ok {
		args = a
	} else if params["args"] != nil {
		return nil, stepErrorf("param args: want an array, got %T", params["args"])
	}
	readOnly, _ := params["read_only"].(bool)
	b := sqlBudget{maxTime: s.set.SQLMaxTime, maxRows: s.set.SQLMaxRows, maxBytes: maxResponse}
	if timeout <= 0 || timeout > b.maxTime {
		timeout = b.maxTime
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("connection %s: %w", name, err) // the operator's error: a platform failure
	}
	dial := s.egress.Dialer(30 * time.Second)
	cfg.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) { return dial(ctx, network, addr) }
	cfg.RuntimeParams["statement_timeout"] = fmt.Sprint(timeout.Milliseconds())
	cfg.RuntimeParams["application_name"] = "gaffer-workflow"
	ctx, cancel := context.WithTimeout(ctx, timeout+5*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, stepErrorf("connection %s: %v", name, err)
	}
	defer conn.Close(context.Background())
	mode := pgx.ReadWrite
	if readOnly {
		mode = pgx.ReadOnly
	}
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{AccessMode: mode})
	if err != nil {
		return nil, stepErrorf("connection %s: %v", name, err)
	}
	defer tx.Rollback(context.Background())
	out, err := b.collect(ctx, tx, query, args)
	if err != nil {
		return nil, stepErrorf("query: %v", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, stepErrorf("commit: %v", err)
	}
	return out, nil
}

// collect runs query in tx and keeps its rows within the budget.
func (b sqlBudget) collect(ctx context.Context, tx pgx.Tx, query string, args []any) (map[string]any, error) {
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	fields := rows.FieldDescriptions()
	kept := []any{}
	count, size, truncated := 0, 0, false
	for rows.Next() {
		count++
		if truncated {
			continue
		}
		vals, err := rows.Values()
		if err != nil {
			return nil, err
		}
		row := make(map[string]any, len(fields))
		for i, f := range fields {
			row[f.Name] = jsonValue(vals[i])
		}
		j, _ := json.Marshal(row)
		if len(kept) >= b.maxRows || size+len(j) > b.maxBytes {
			truncated = true
			continue
		}
		size += len(j)
		kept = append(kept, row)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := map[string]any{"rows_affected": rows.CommandTag().RowsAffected()}
	if len(fields) > 0 {
		cols := make([]any, len(fields))
		for i, f := range fields {
			cols[i] = f.Name
		}
		out["columns"], out["rows"], out["row_count"], out["truncated"] = cols, kept, int64(count), truncated
	}
	return out, nil
}

// jsonValue is a scanned column value as a param value.
func jsonValue(v any) any {
	switch x := v.(type) {
	case []byte:
		return string(x)
	case int16:
		return int64(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case int32:
		return int64(x)
	case float32:
		return float64(x)
	case nil, string, int64, float64, bool:
		return x
	case pgtype.Numeric:
		if i, err := x.Int64Value(); err == nil && i.Valid {
			return i.Int64
		}
		if f, err := x.Float64Value(); err == nil && f.Valid {
			return f.Float64
		}
		return nil
	case [16]byte: // a uuid
		return fmt.Sprintf("%x-%x-%x-%x-%x", x[0:4], x[4:6], x[6:8], x[8:10], x[10:16])
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsonValue(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = jsonValue(e)
		}
		return out
	case driver.Valuer:
		if dv, err := x.Value(); err == nil {
			return jsonValue(dv)
		}
	}
	return fmt.Sprint(v)
}
