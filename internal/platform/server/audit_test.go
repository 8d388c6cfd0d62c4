package server_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/audit"
	"github.com/gaffer-sre/gaffer/internal/platform/clocktest"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/internal/platform/server"
)

// TestAnonymousRefusalsDoNotGrowTheAuditLog is issue #15 item 4 end to
// end: the finding's requests ten times over, 200 DELETEs with a 600 KB
// path and no token, add a sample and a count to the audit log, not
// 120 MB. (Go's URL parsing takes about 6 ms of CPU a request, so a
// thousand made this the suite's third-slowest test.)
func TestAnonymousRefusalsDoNotGrowTheAuditLog(t *testing.T) {
	// The clock stands still: the refusals fall in one sampling minute
	// however long a loaded machine (or -race) takes to send them.
	srv := platformtest.Start(t, platformtest.Options{Now: clocktest.Fixed(clocktest.Base)})
	ctx := context.Background()
	size := func() (rows, bytes int64) {
		t.Helper()
		err := srv.Deps().Store.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(LENGTH(target) + LENGTH(detail)), 0)
			FROM audit_log`).Scan(&rows, &bytes)
		if err != nil {
			t.Fatal(err)
		}
		return rows, bytes
	}
	rows0, bytes0 := size()
	url := srv.URL + "/api/v1/tokens/" + strings.Repeat("a", 600<<10)
	for i := range 200 {
		req, _ := http.NewRequest("DELETE", url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("DELETE %d: %v", i, err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Fatalf("DELETE %d: %d, want 401", i, resp.StatusCode)
		}
	}
	// Close writes the open count, as a shutdown does.
	if err := srv.Deps().Audit.Close(ctx); err != nil {
		t.Fatal(err)
	}
	rows, bytes := size()
	rows, bytes = rows-rows0, bytes-bytes0
	t.Logf("200 refused DELETEs of 600 KB added %d rows, %d bytes of text", rows, bytes)
	if rows != 2 || bytes > 4*audit.MaxTarget {
		t.Fatalf("200 refused DELETEs added %d rows and %d bytes; want a sample and a count, under %d bytes",
			rows, bytes, 4*audit.MaxTarget)
	}
	list, _, err := srv.Deps().Audit.List(ctx, audit.Filter{Action: audit.RefusedAnonymousAction})
	if err != nil || len(list) != 1 || !strings.HasPrefix(list[0].Detail, "199 more refused anonymous calls from 127.0.0.1") {
		t.Fatalf("count entry: %+v, %v", list, err)
	}
}

// TestAuditRetentionJob checks that the server's periodic job exports old
// audit entries to the export directory and deletes them.
func TestAuditRetentionJob(t *testing.T) {
	exportDir := filepath.Join(t.TempDir(), "audit-export")
	srv := platformtest.Start(t, platformtest.Options{Configure: func(c *server.Config) {
		c.AuditRetention = time.Millisecond
		c.AuditExportDir = exportDir
	}})
	ctx := context.Background()
	if err := srv.Deps().Audit.Record(ctx, audit.Entry{Time: time.Now().Add(-time.Hour), Actor: "ops",
		Action: "retention.probe", Outcome: audit.OutcomeSuccess, Status: 200}); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Deps().Jobs.Enqueue(ctx, server.AuditRetentionJob, struct{}{}, nil); err != nil {
		t.Fatal(err)
	}
	platformtest.Eventually(t, "the probe entry to be exported and deleted", func() bool {
		list, _, err := srv.Deps().Audit.List(ctx, audit.Filter{Action: "retention.probe"})
		if err != nil || len(list) != 0 {
			return false
		}
		files, _ := filepath.Glob(filepath.Join(exportDir, "audit-*.jsonl"))
		for _, f := range files {
			if b, err := os.ReadFile(f); err == nil && strings.Contains(string(b), `"action":"retention.probe"`) {
				return true
			}
		}
		return false
	})
}
