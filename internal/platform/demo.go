package platform

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// DemoStartFile is the file of the data directory that records when the
// demo was first loaded into it (RFC 3339).
const DemoStartFile = "demo-started"

// DemoStart returns when the demo was first loaded into this data
// directory: the moment every system's demo story is told around (the
// bad deploy, the incident it causes, the alert, the runbook run), so
// that they tell one story and tell it again the same way after a
// restart. The first call records the clock's time, to the second; later
// calls, in this process or the next, read it back.
func (d *Deps) DemoStart() (time.Time, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.demoStart.IsZero() {
		return d.demoStart, nil
	}
	if d.DataDir == "" {
		return time.Time{}, errors.New("demo start: no data directory to record it in")
	}
	path := filepath.Join(d.DataDir, DemoStartFile)
	t, err := readDemoStart(path)
	if errors.Is(err, fs.ErrNotExist) {
		t = d.Clock()().UTC().Truncate(time.Second)
		err = writeDemoStart(path, t)
		if errors.Is(err, fs.ErrExist) { // another process wrote it first
			t, err = readDemoStart(path)
		}
	}
	if err != nil {
		return time.Time{}, err
	}
	d.demoStart = t
	return t, nil
}

func readDemoStart(path string) (time.Time, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return time.Time{}, fmt.Errorf("demo start: %w", err)
	}
	t, err := time.Parse(time.RFC3339, strings.TrimSpace(string(b)))
	if err != nil {
		return time.Time{}, fmt.Errorf("demo start: %s: want an RFC 3339 time: %w", path, err)
	}
	return t.UTC(), nil
}

func writeDemoStart(path string, t time.Time) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("demo start: %w", err)
	}
	_, err = f.WriteString(t.Format(time.RFC3339) + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("demo start: write %s: %w", path, err)
	}
	return nil
}
