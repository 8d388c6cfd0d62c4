package audit

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gaffer-sre/gaffer/internal/platform/store"
	"github.com/gaffer-sre/gaffer/internal/platform/store/storetest"
)

// manualClock is a clock the test moves.
type manualClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func openLog(t *testing.T, s *store.Store, o Options) *Log {
	t.Helper()
	l, err := Open(context.Background(), s, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close(context.Background()) })
	return l
}

// tableSize returns the rows of audit_log and the bytes of their text.
func tableSize(t *testing.T, s *store.Store) (rows, bytes int64) {
	t.Helper()
	err := s.QueryRowContext(context.Background(), `SELECT COUNT(*), COALESCE(SUM(LENGTH(actor) + LENGTH(action) +
		LENGTH(target) + LENGTH(request_id) + LENGTH(remote_addr) + LENGTH(detail)), 0) FROM audit_log`).Scan(&rows, &bytes)
	if err != nil {
		t.Fatal(err)
	}
	return rows, bytes
}

// TestRefusedAnonymousCallsAreBounded is issue #15 item 4: 1,000 refused
// DELETEs with a 600 KB path from one source add two rows of bounded size
// (a sample and a count), not 1,000 rows of 600 KB.
func TestRefusedAnonymousCallsAreBounded(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			s := b.Open(t)
			clock := &manualClock{t: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}
			l := openLog(t, s, Options{Now: clock.Now})
			path := "/api/v1/tokens/" + strings.Repeat("x", 600<<10)
			refused := func(remote string) Entry {
				return Entry{Action: "platform.token.revoke", Target: path, Outcome: OutcomeDenied, Status: 401, RemoteAddr: remote}
			}
			for i := range 1000 {
				if err := l.Record(ctx, refused(fmt.Sprintf("203.0.113.7:%d", 40000+i))); err != nil {
					t.Fatal(err)
				}
			}
			rows, bytes := tableSize(t, s)
			if rows != 1 || bytes > 2*MaxTarget {
				t.Fatalf("after 1000 refused calls: %d rows, %d bytes; want 1 sample of at most %d bytes", rows, bytes, 2*MaxTarget)
			}
			// A refusal by someone with a token, and another source, are
			// recorded in full.
			if err := l.Record(ctx, Entry{Actor: "ci", Action: "platform.token.revoke", Target: path, Outcome: OutcomeDenied, Status: 403,
				RemoteAddr: "203.0.113.7:1"}); err != nil {
				t.Fatal(err)
			}
			if err := l.Record(ctx, refused("[2001:db8::1]:443")); err != nil {
				t.Fatal(err)
			}
			if err := l.Record(ctx, refused("[2001:db8::2]:443")); err != nil { // same /64
				t.Fatal(err)
			}
			// The counts are written once the window has passed.
			if err := l.FlushRefusals(ctx); err != nil {
				t.Fatal(err)
			}
			if rows, _ := tableSize(t, s); rows != 3 {
				t.Fatalf("%d rows before the window passed, want 3", rows)
			}
			clock.Advance(time.Minute)
			if err := l.FlushRefusals(ctx); err != nil {
				t.Fatal(err)
			}
			rows, bytes = tableSize(t, s)
			if rows != 5 || bytes > 6*MaxTarget {
				t.Fatalf("after the window: %d rows, %d bytes; want 5 of at most %d bytes", rows, bytes, 6*MaxTarget)
			}
			list, _, err := l.List(ctx, Filter{Action: RefusedAnonymousAction})
			if err != nil {
				t.Fatal(err)
			}
			details := map[string]string{}
			for _, e := range list {
				details[e.RemoteAddr] = e.Detail
			}
			if d := details["203.0.113.7"]; !strings.HasPrefix(d, "999 more refused anonymous calls from 203.0.113.7") ||
				!strings.Contains(d, "platform.token.revoke:999") {
				t.Errorf("summary for 203.0.113.7: %q", d)
			}
			if d := details["2001:db8::/64"]; !strings.HasPrefix(d, "1 more") {
				t.Errorf("summary for 2001:db8::/64: %q", d)
			}
			all, _, _ := l.List(ctx, Filter{})
			for _, e := range all {
				if len(e.Target) > MaxTarget || !utf8.ValidString(e.Target) {
					t.Errorf("entry %d target of %d bytes", e.ID, len(e.Target))
				}
			}
			// A new window records a new sample.
			if err := l.Record(ctx, refused("203.0.113.7:2")); err != nil {
				t.Fatal(err)
			}
			if rows, _ := tableSize(t, s); rows != 6 {
				t.Fatalf("%d rows after a refusal in a new window, want 6", rows)
			}
		})
	}
}

// TestRefusalSourcesAreBounded checks that many sources cannot make the
// limiter's memory or the log grow beyond MaxRefusalSources samples and
// one count of the rest per window.
func TestRefusalSourcesAreBounded(t *testing.T) {
	ctx := context.Background()
	s := storetest.SQLite(t)
	clock := &manualClock{t: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}
	l := openLog(t, s, Options{Now: clock.Now, MaxRefusalSources: 3})
	for i := range 10 {
		for range 5 {
			if err := l.Record(ctx, Entry{Action: "x", Outcome: OutcomeFailure, Status: 400,
				RemoteAddr: fmt.Sprintf("198.51.100.%d:5000", i)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n := len(l.refusals.open); n > 4 {
		t.Fatalf("%d sources held, want at most 4", n)
	}
	if err := l.Close(ctx); err != nil {
		t.Fatal(err)
	}
	rows, _ := tableSize(t, s)
	// 3 samples, 3 counts of their 4 further calls, 1 count of the other 35.
	if rows != 7 {
		t.Fatalf("%d rows, want 7", rows)
	}
	list, _, _ := l.List(ctx, Filter{Target: "source:" + otherSources})
	if len(list) != 1 || !strings.HasPrefix(list[0].Detail, "35 more") {
		t.Fatalf("other sources: %+v", list)
	}
}

func TestTruncate(t *testing.T) {
	long := strings.Repeat("é", 1000) // 2,000 bytes
	got := truncate(long, 100)
	if len(got) > 100 || !utf8.ValidString(got) || !strings.HasSuffix(got, "[2000 bytes]") {
		t.Fatalf("truncate: %d bytes %q", len(got), got)
	}
	if truncate("short", 100) != "short" {
		t.Fatal("short string changed")
	}
}

// TestExpireExportsBeforeDeleting is issue #15 item 4's retention: old
// entries are written to a JSON-lines file before they are deleted, new
// ones stay, and the database refuses to delete what no export holds.
func TestExpireExportsBeforeDeleting(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			s := b.Open(t)
			clock := &manualClock{t: time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)}
			l := openLog(t, s, Options{Now: clock.Now})
			cutoff := clock.Now().Add(-90 * 24 * time.Hour)
			record := func(at time.Time, action string) {
				if err := l.Record(ctx, Entry{Time: at, Actor: "ops", Action: action, Outcome: OutcomeSuccess, Status: 200}); err != nil {
					t.Fatal(err)
				}
			}
			for i := range 12 {
				record(cutoff.Add(-time.Duration(12-i)*time.Hour), fmt.Sprintf("old.%d", i))
			}
			record(cutoff.Add(time.Hour), "new.0")
			record(cutoff.Add(-time.Minute), "old.late") // after a new one: waits
			record(cutoff.Add(2*time.Hour), "new.1")

			if _, err := s.ExecContext(ctx, "DELETE FROM audit_log"); err == nil {
				t.Fatal("deleting unexported entries succeeded")
			}
			// An export that cannot be written deletes nothing.
			blocked := filepath.Join(t.TempDir(), "file")
			os.WriteFile(blocked, nil, 0o600)
			if _, err := l.Expire(ctx, cutoff, filepath.Join(blocked, "export")); err == nil {
				t.Fatal("expire into an impossible directory succeeded")
			}
			if rows, _ := tableSize(t, s); rows != 15 {
				t.Fatalf("%d rows after a failed export, want 15", rows)
			}

			dir := filepath.Join(t.TempDir(), "audit-export")
			res, err := l.Expire(ctx, cutoff, dir)
			if err != nil {
				t.Fatal(err)
			}
			if res.Exported != 12 || res.Deleted != 12 {
				t.Fatalf("expire: %+v, want 12 exported and deleted", res)
			}
			fi, err := os.Stat(res.Path)
			if err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("export file: %v, %v", fi, err)
			}
			if di, _ := os.Stat(dir); di.Mode().Perm() != 0o700 {
				t.Fatalf("export directory mode %v", di.Mode())
			}
			f, _ := os.Open(res.Path)
			defer f.Close()
			sc := bufio.NewScanner(f)
			var actions []string
			for sc.Scan() {
				var e Entry
				if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
					t.Fatalf("export line %q: %v", sc.Text(), err)
				}
				if !e.Time.Before(cutoff) || e.Actor != "ops" {
					t.Errorf("exported %+v", e)
				}
				actions = append(actions, e.Action)
			}
			if len(actions) != 12 || actions[0] != "old.0" || actions[11] != "old.11" {
				t.Fatalf("exported actions %v", actions)
			}
			left, _, _ := l.List(ctx, Filter{})
			if len(left) != 3 || left[2].Action != "new.0" || left[1].Action != "old.late" {
				t.Fatalf("left after expire: %+v", left)
			}
			// Once the new entry before it has aged too, the late one goes.
			res, err = l.Expire(ctx, cutoff.Add(90*time.Minute), dir)
			if err != nil {
				t.Fatal(err)
			}
			if res.Exported != 2 || res.Deleted != 2 || res.Path == "" {
				t.Fatalf("second expire: %+v, want 2", res)
			}
			if res, err = l.Expire(ctx, cutoff.Add(90*time.Minute), dir); err != nil || res != (ExpireResult{}) {
				t.Fatalf("third expire: %+v, %v; want nothing", res, err)
			}
			if _, err := s.ExecContext(ctx, "DELETE FROM audit_log"); err == nil {
				t.Fatal("deleting the unexported entry succeeded")
			}
			if _, err := s.ExecContext(ctx, "DELETE FROM audit_exports"); err == nil {
				t.Fatal("deleting the export records succeeded")
			}
		})
	}
}
