package store_test

import (
	"context"
	"testing"

	"github.com/gaffer-sre/gaffer/internal/platform/store/storetest"
)

// TestRenameSystemKeepsMigrationsApplied renames a system whose
// migrations ran under its old name: migrating under the new name then
// applies nothing (the table would exist twice otherwise), and a second
// rename changes nothing.
func TestRenameSystemKeepsMigrationsApplied(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			s := b.Open(t)
			if err := s.Migrate(ctx, "analysis", testMigrations); err != nil {
				t.Fatalf("migrate: %v", err)
			}
			if err := s.RenameSystem(ctx, "analysis", "correlate"); err != nil {
				t.Fatalf("rename: %v", err)
			}
			if err := s.Migrate(ctx, "correlate", testMigrations); err != nil {
				t.Fatalf("migrate under the new name: %v", err)
			}
			if err := s.RenameSystem(ctx, "analysis", "correlate"); err != nil {
				t.Fatalf("rename again: %v", err)
			}
			var old, renamed int
			s.QueryRowContext(ctx, "SELECT COUNT(*) FROM gaffer_migrations WHERE system = ?", "analysis").Scan(&old)
			s.QueryRowContext(ctx, "SELECT COUNT(*) FROM gaffer_migrations WHERE system = ?", "correlate").Scan(&renamed)
			if old != 0 || renamed != 2 {
				t.Fatalf("records: %d under analysis, %d under correlate; want 0 and 2", old, renamed)
			}
		})
	}
}
