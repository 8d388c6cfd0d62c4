package tsdb

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/telemetry/tsdb/internal/wal"
)

func TestTornWALTail(t *testing.T) {
	dir := t.TempDir()
	db := openTest(t, dir, testOptions(nil))
	ls := FromStrings(MetricName, "m")
	for i := range 10 {
		appendOne(t, db, ls, int64(i)*1000, float64(i))
	}
	db.Close()
	segs, _ := wal.ListSegments(filepath.Join(dir, walDir))
	last := wal.SegmentName(filepath.Join(dir, walDir), segs[len(segs)-1])
	fi, _ := os.Stat(last)
	if err := os.Truncate(last, fi.Size()-5); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	db = openTest(t, dir, testOptions(&logs))
	defer db.Close()
	if !strings.Contains(logs.String(), "dropped torn WAL tail") || !strings.Contains(logs.String(), "bytes_dropped=") {
		t.Fatalf("no log line about the torn tail: %s", logs.String())
	}
	got := query(t, db, 0, math.MaxInt64, nil)[ls.String()]
	if len(got) != 9 || got[8].v != 8 {
		t.Fatalf("got %v", got)
	}
	appendOne(t, db, ls, 9000, 9) // the store is writable again
}

func TestCorruptBlockDetected(t *testing.T) {
	dir := t.TempDir()
	o := testOptions(nil)
	db := openTest(t, dir, o)
	ingest(t, db, "m", 3, 0, hourMs, 4)
	if err := db.FlushHead(); err != nil {
		t.Fatal(err)
	}
	st, _ := db.Stats(0)
	db.Close()
	var raw, rollup BlockMeta
	for _, b := range st.Blocks {
		if b.Resolution == 0 {
			raw = b
		} else {
			rollup = b
		}
	}
	// A flipped bit in a chunk fails that chunk's checksum at read time.
	flip(t, filepath.Join(dir, blocksDir, raw.ID, chunksFile), 40)
	// A flipped bit in an index fails the index checksum at open.
	flip(t, filepath.Join(dir, blocksDir, rollup.ID, indexFile), 20)
	var logs bytes.Buffer
	db = openTest(t, dir, testOptions(&logs))
	defer db.Close()
	if !strings.Contains(logs.String(), "set aside") || !strings.Contains(logs.String(), "checksum") {
		t.Fatalf("corrupt index not reported: %s", logs.String())
	}
	if _, err := os.Stat(filepath.Join(dir, blocksDir, rollup.ID+".corrupt")); err != nil {
		t.Fatal("corrupt block not set aside")
	}
	q, _ := db.Querier(0, math.MaxInt64)
	defer q.Close()
	set := q.Select(nil)
	var err error
	for set.Next() {
		it := set.At().Iterator()
		for it.Next() {
		}
		if it.Err() != nil {
			err = it.Err()
		}
	}
	if !errors.Is(err, ErrCorruptBlock) || !strings.Contains(err.Error(), "checksum") {
		t.Fatalf("corrupt chunk not detected: %v", err)
	}
}

func flip(t *testing.T, name string, off int64) {
	t.Helper()
	f, err := os.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	f.ReadAt(b, off)
	b[0] ^= 0x10
	f.WriteAt(b, off)
}

// fullDisk is a WAL file whose writes fail with ENOSPC while full is set,
// after writing part of the data, as a real full disk can.
type fullDisk struct {
	*os.File
	full *bool
}

func (f fullDisk) WriteAt(b []byte, off int64) (int, error) {
	if *f.full {
		n, _ := f.File.WriteAt(b[:len(b)/2], off)
		return n, syscall.ENOSPC
	}
	return f.File.WriteAt(b, off)
}

func TestDiskFull(t *testing.T) {
	dir := t.TempDir()
	full := false
	o := testOptions(nil)
	o.walOpenFile = func(name string) (wal.File, error) {
		f, err := os.OpenFile(name, os.O_CREATE|os.O_WRONLY, 0o644)
		return fullDisk{f, &full}, err
	}
	db := openTest(t, dir, o)
	ls := FromStrings(MetricName, "m")
	appendOne(t, db, ls, 1000, 1)
	full = true
	a := db.Appender()
	a.Append(0, ls, 2000, 2)
	a.Append(0, FromStrings(MetricName, "new"), 2000, 2)
	err := a.Commit()
	if !errors.Is(err, ErrStorageFull) {
		t.Fatalf("commit on a full disk: %v", err)
	}
	if got := query(t, db, 0, math.MaxInt64, nil)[ls.String()]; len(got) != 1 {
		t.Fatalf("a failed commit changed the head: %v", got)
	}
	full = false // space returns
	appendOne(t, db, ls, 2000, 2)
	appendOne(t, db, FromStrings(MetricName, "new"), 2000, 2)
	db.Close()
	db = openTest(t, dir, testOptions(nil))
	defer db.Close()
	got := query(t, db, 0, math.MaxInt64, nil)
	if !sameSamples(got[ls.String()], []sample{{1000, 1}, {2000, 2}}) || len(got[`new{}`]) != 1 {
		t.Fatalf("after reopen: %v", got)
	}
}

// TestSIGKILL runs an ingesting child process, kills it with SIGKILL, and
// checks that every sample the child saw acknowledged is in the store.
func TestSIGKILL(t *testing.T) {
	if os.Getenv("GAFFER_TSDB_CHILD") != "" {
		sigkillChild()
		return
	}
	if testing.Short() {
		t.Skip("spawns a process")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestSIGKILL$")
	cmd.Env = append(os.Environ(), "GAFFER_TSDB_CHILD="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The child prints the last acknowledged batch number after each commit.
	acked := -1
	sc := bufio.NewScanner(out)
	deadline := time.After(3 * time.Second)
	for loop := true; loop && sc.Scan(); {
		if n, err := strconv.Atoi(sc.Text()); err == nil {
			acked = n
		}
		select {
		case <-deadline:
			loop = false
		default:
			loop = acked < 2000
		}
	}
	cmd.Process.Signal(syscall.SIGKILL)
	for sc.Scan() { // acknowledgements printed before the kill landed
		if n, err := strconv.Atoi(sc.Text()); err == nil {
			acked = n
		}
	}
	cmd.Wait()
	if acked < 10 {
		t.Fatalf("child acknowledged only %d batches", acked)
	}
	db := openTest(t, dir, testOptions(nil))
	defer db.Close()
	got := query(t, db, 0, math.MaxInt64, nil)
	for i := range 10 {
		ls := FromStrings(MetricName, "killed", "i", fmt.Sprint(i))
		s := got[ls.String()]
		if len(s) < acked+1 {
			t.Fatalf("%s: %d samples after reopen, %d batches acknowledged", ls, len(s), acked+1)
		}
		for j := 0; j <= acked; j++ {
			if s[j].t != int64(j)*1000 || s[j].v != float64(j*i) {
				t.Fatalf("%s: sample %d is %v", ls, j, s[j])
			}
		}
	}
	t.Logf("%d batches acknowledged before SIGKILL; all present", acked+1)
}

func sigkillChild() {
	o := testOptions(nil)
	db, err := Open(os.Getenv("GAFFER_TSDB_CHILD"), o)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	refs := make([]SeriesRef, 10)
	for j := 0; ; j++ {
		a := db.Appender()
		for i := range 10 {
			ls := FromStrings(MetricName, "killed", "i", fmt.Sprint(i))
			refs[i], err = a.Append(refs[i], ls, int64(j)*1000, float64(j*i))
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
		}
		if err := a.Commit(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println(j)
	}
}
