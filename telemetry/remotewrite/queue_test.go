package remotewrite

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/telemetry/prom"
	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

func series(name string, from, n int) []prom.TimeSeries {
	ts := prom.TimeSeries{Labels: tsdb.Labels{{Name: "__name__", Value: name}, {Name: "job", Value: "j"}}}
	for i := from; i < from+n; i++ {
		ts.Samples = append(ts.Samples, prom.Sample{Timestamp: int64(i) * 1000, Value: float64(i)})
	}
	return []prom.TimeSeries{ts}
}

// drain reads and acknowledges everything pending, returning the
// timestamps read in order.
func drain(t *testing.T, q *Queue) []int64 {
	t.Helper()
	var out []int64
	for q.Stats().Pending > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		b, err := q.Next(ctx, 5000)
		cancel()
		if err != nil {
			t.Fatalf("Next with %d pending: %v", q.Stats().Pending, err)
		}
		for _, ts := range b.Series {
			for _, s := range ts.Samples {
				out = append(out, s.Timestamp)
			}
		}
		if err := q.Ack(b); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func TestQueueRoundTripAndRestart(t *testing.T) {
	dir := t.TempDir()
	q, err := OpenQueue(dir, 1<<20, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		if err := q.Append(series("a", i*10, 10)); err != nil {
			t.Fatal(err)
		}
	}
	// Read and acknowledge part of it, then read a batch and do not
	// acknowledge it: after a restart it must come again.
	b, err := q.Next(context.Background(), 30)
	if err != nil || b.Samples != 30 {
		t.Fatalf("Next: %d samples, %v; want 30", b.Samples, err)
	}
	if err := q.Ack(b); err != nil {
		t.Fatal(err)
	}
	if b, err = q.Next(context.Background(), 10); err != nil || b.Samples != 10 {
		t.Fatalf("Next: %d samples, %v; want 10", b.Samples, err)
	}
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	q, err = OpenQueue(dir, 1<<20, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	if got := q.Stats().Pending; got != 70 {
		t.Fatalf("pending after restart = %d, want 70", got)
	}
	got := drain(t, q)
	if len(got) != 70 || got[0] != 30_000 || got[69] != 99_000 {
		t.Fatalf("after restart read %d samples from %v to %v; want 70 from 30000 to 99000", len(got), got[0], got[len(got)-1])
	}
	for i := 1; i < len(got); i++ {
		if got[i] != got[i-1]+1000 {
			t.Fatalf("sample %d at %d follows %d: out of order or missing", i, got[i], got[i-1])
		}
	}
}

func TestQueueTruncatesTornTail(t *testing.T) {
	dir := t.TempDir()
	q, err := OpenQueue(dir, 1<<20, nil)
	if err != nil {
		t.Fatal(err)
	}
	q.Append(series("a", 0, 5))
	q.Append(series("a", 5, 5))
	q.Close()
	seg := filepath.Join(dir, "0000000000000001.seg")
	b, _ := os.ReadFile(seg)
	if err := os.WriteFile(seg, b[:len(b)-3], 0o600); err != nil { // a crash mid-write
		t.Fatal(err)
	}
	q, err = OpenQueue(dir, 1<<20, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	if got := drain(t, q); len(got) != 5 {
		t.Fatalf("read %d samples after a torn tail, want the 5 of the whole record", len(got))
	}
	q.Append(series("a", 10, 5)) // appends after the truncated record
	if got := drain(t, q); len(got) != 5 || got[0] != 10_000 {
		t.Fatalf("read %v after appending to a truncated segment, want 5 from 10000", got)
	}
}

func TestQueueBoundDropsOldestAndCounts(t *testing.T) {
	dir := t.TempDir()
	q, err := OpenQueue(dir, 1<<20, nil) // segments of 128 KiB
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	// Distinct label values keep snappy from compressing the records away.
	appended := 0
	for i := 0; q.Stats().Dropped == 0; i++ {
		var batch []prom.TimeSeries
		for j := 0; j < 50; j++ {
			batch = append(batch, series(fmt.Sprintf("m_%d_%d", i, j), i, 2)...)
		}
		if err := q.Append(batch); err != nil {
			t.Fatal(err)
		}
		appended += 100
		if i > 100_000 {
			t.Fatal("the queue never dropped anything")
		}
	}
	st := q.Stats()
	if st.Bytes > 1<<20 {
		t.Fatalf("queue holds %d bytes, over its bound of %d", st.Bytes, 1<<20)
	}
	if st.Pending+st.Dropped != int64(appended) {
		t.Fatalf("pending %d + dropped %d = %d, want every appended sample (%d) accounted for",
			st.Pending, st.Dropped, st.Pending+st.Dropped, appended)
	}
	// Across a restart the queue counts the same samples pending, over
	// several segments.
	q.Close()
	if q, err = OpenQueue(dir, 1<<20, nil); err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	if got := q.Stats(); got.Pending != st.Pending || got.Bytes != st.Bytes {
		t.Fatalf("after a restart: %+v, want pending %d in %d bytes", got, st.Pending, st.Bytes)
	}
	got := drain(t, q)
	if int64(len(got)) != st.Pending {
		t.Fatalf("drained %d samples, want the %d pending", len(got), st.Pending)
	}
	if ents, _ := os.ReadDir(dir); len(ents) > 3 {
		t.Errorf("after draining, %d files remain in the queue directory, want the last segment and the position", len(ents))
	}
}

func TestOpenQueueRefusesATinyBound(t *testing.T) {
	if _, err := OpenQueue(t.TempDir(), 1000, nil); err == nil {
		t.Fatal("OpenQueue accepted a 1000-byte bound")
	}
}

func TestQueueRefusesADamagedAckFile(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, ackFile), []byte("x y"), 0o600)
	if _, err := OpenQueue(dir, 1<<20, nil); err == nil {
		t.Fatal("OpenQueue accepted a damaged acked file")
	}
}

// FuzzReadRecord: any bytes read as a record give a record, io.EOF or an
// error, never a panic; a record that reads back decodes or errs.
func FuzzReadRecord(f *testing.F) {
	f.Add(appendRecord(nil, series("a", 0, 3), 3))
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, payload, err := readRecord(bytes.NewReader(b), make([]byte, headerSize))
		if err != nil {
			return
		}
		if int(h.size) != len(payload) {
			t.Fatalf("header says %d bytes, payload has %d", h.size, len(payload))
		}
		decodePayload(payload)
	})
}

// FuzzReadAcked: the acknowledged-position file parses to a position or
// an error naming the file, never a panic or a negative offset.
func FuzzReadAcked(f *testing.F) {
	f.Add([]byte("3 1024\n"))
	f.Add([]byte("x y"))
	f.Add([]byte("1 -5"))
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(t.TempDir(), ackFile)
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		p, err := readAcked(path)
		if err == nil && p.off < 0 {
			t.Fatalf("readAcked(%q) = %+v: negative offset", b, p)
		}
	})
}
