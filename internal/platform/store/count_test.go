package store

import (
	"context"
	"path/filepath"
	"testing"
)

func TestCountBy(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, filepath.Join(t.TempDir(), "count.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.ExecContext(ctx, `CREATE TABLE runs (status TEXT)`); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"ok", "ok", "failed"} {
		if _, err := st.ExecContext(ctx, `INSERT INTO runs VALUES (?)`, s); err != nil {
			t.Fatal(err)
		}
	}
	got, err := CountBy(ctx, st, `SELECT status, COUNT(*) FROM runs WHERE status <> ? GROUP BY status`, "none")
	if err != nil || len(got) != 2 || got["ok"] != 2 || got["failed"] != 1 {
		t.Fatalf("CountBy = %v, %v", got, err)
	}
	if _, err := CountBy(ctx, st, `SELECT status FROM runs`); err == nil {
		t.Fatal("a query of one column was accepted")
	}
}
