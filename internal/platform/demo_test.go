package platform

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDemoStartIsRecordedOnce: the first call records the clock's time;
// a later process on the same data directory, with another clock, reads
// the same moment back.
func TestDemoStartIsRecordedOnce(t *testing.T) {
	dir := t.TempDir()
	first := time.Date(2026, 12, 7, 14, 55, 7, 300e6, time.UTC)
	d := &Deps{DataDir: dir, Now: func() time.Time { return first }}
	got, err := d.DemoStart()
	if err != nil {
		t.Fatal(err)
	}
	if want := first.Truncate(time.Second); !got.Equal(want) {
		t.Fatalf("demo start %s, want %s", got, want)
	}
	later := &Deps{DataDir: dir, Now: func() time.Time { return first.Add(26 * time.Hour) }}
	again, err := later.DemoStart()
	if err != nil || !again.Equal(got) {
		t.Fatalf("after a restart: %s, %v; want %s", again, err, got)
	}
}

func TestDemoStartNamesABadFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, DemoStartFile), []byte("yesterday\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := (&Deps{DataDir: dir}).DemoStart()
	if err == nil || !strings.Contains(err.Error(), DemoStartFile) || !strings.Contains(err.Error(), "RFC 3339") {
		t.Fatalf("error %v, want one naming %s and the format", err, DemoStartFile)
	}
	if _, err := (&Deps{}).DemoStart(); err == nil {
		t.Fatal("no error without a data directory")
	}
}
