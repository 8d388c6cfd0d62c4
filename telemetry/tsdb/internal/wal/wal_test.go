package wal

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"syscall"
	"testing"
)

func readAll(t *testing.T, dir string, repair bool, logs *bytes.Buffer) [][]byte {
	t.Helper()
	var out [][]byte
	opts := ReplayOptions{Repair: repair, Logger: slog.New(slog.NewTextHandler(logs, nil))}
	if _, err := ReadDir(dir, opts, func(r []byte) error {
		out = append(out, append([]byte(nil), r...))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestWriteRead(t *testing.T) {
	dir := t.TempDir()
	w, err := NewWriter(dir, 0, Options{SegmentSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		if err := w.Log([]byte(fmt.Sprintf("record-%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	segs, _ := ListSegments(dir)
	if len(segs) < 5 {
		t.Fatalf("expected several segments, got %v", segs)
	}
	got := readAll(t, dir, true, new(bytes.Buffer))
	if len(got) != 50 || string(got[49]) != "record-49" {
		t.Fatalf("got %d records", len(got))
	}
}

func TestTornTail(t *testing.T) {
	dir := t.TempDir()
	w, _ := NewWriter(dir, 0, Options{})
	for i := range 10 {
		w.Log([]byte(fmt.Sprintf("record-%d", i)))
	}
	w.Close()
	name := SegmentName(dir, 0)
	fi, _ := os.Stat(name)
	os.Truncate(name, fi.Size()-3)
	var logs bytes.Buffer
	got := readAll(t, dir, true, &logs)
	if len(got) != 9 {
		t.Fatalf("got %d records, want 9", len(got))
	}
	if !strings.Contains(logs.String(), "dropped torn WAL tail") || !strings.Contains(logs.String(), "bytes_dropped=") {
		t.Fatalf("log does not say what was dropped: %s", logs.String())
	}
	fi2, _ := os.Stat(name)
	if fi2.Size() >= fi.Size()-3 {
		t.Fatal("segment was not truncated")
	}
	logs.Reset()
	if got := readAll(t, dir, true, &logs); len(got) != 9 || logs.Len() != 0 {
		t.Fatalf("second replay: %d records, log %q", len(got), logs.String())
	}
}

// fullFile fails writes past limit bytes with ENOSPC after writing part.
type fullFile struct {
	*os.File
	limit *int64
}

func (f fullFile) WriteAt(b []byte, off int64) (int, error) {
	if off+int64(len(b)) > *f.limit {
		n := max(0, *f.limit-off)
		f.File.WriteAt(b[:n], off)
		return int(n), syscall.ENOSPC
	}
	return f.File.WriteAt(b, off)
}

func TestDiskFullLeavesNoPartialRecord(t *testing.T) {
	dir := t.TempDir()
	limit := int64(60)
	opts := Options{OpenFile: func(name string) (File, error) {
		f, err := os.OpenFile(name, os.O_CREATE|os.O_WRONLY, 0o644)
		return fullFile{f, &limit}, err
	}}
	w, _ := NewWriter(dir, 0, opts)
	var ok int
	for i := range 10 {
		if err := w.Log([]byte(fmt.Sprintf("record-%d", i))); err == nil {
			ok++
		} else if !strings.Contains(err.Error(), "no space") {
			t.Fatal(err)
		}
	}
	limit = 1 << 20
	w.Log([]byte("after"))
	w.Close()
	var logs bytes.Buffer
	got := readAll(t, dir, false, &logs)
	if len(got) != ok+1 || string(got[len(got)-1]) != "after" || logs.Len() != 0 {
		t.Fatalf("got %d records (want %d), log %q", len(got), ok+1, logs.String())
	}
}

func TestCheckpoint(t *testing.T) {
	dir := t.TempDir()
	w, _ := NewWriter(dir, 0, Options{})
	w.Log([]byte("old"))
	seg, _ := w.Cut()
	w.Log([]byte("new"))
	err := WriteCheckpoint(dir, seg, Options{}, func(log func(...[]byte) error) error {
		return log([]byte("kept"))
	})
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	got := readAll(t, dir, true, new(bytes.Buffer))
	if len(got) != 2 || string(got[0]) != "kept" || string(got[1]) != "new" {
		t.Fatalf("got %q", got)
	}
}

func FuzzDecodeFrame(f *testing.F) {
	f.Add([]byte{5, 0, 0, 0, 0, 0, 0, 0, 'h', 'e', 'l', 'l', 'o'})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		for len(b) > 0 {
			p, n, err := DecodeFrame(b)
			if err != nil {
				return
			}
			if n != len(p)+frameSize || n > len(b) {
				t.Fatalf("consumed %d for %d-byte payload", n, len(p))
			}
			b = b[n:]
		}
	})
}
