package prom

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/golang/snappy"

	"github.com/gaffer-sre/gaffer/internal/platform/auth"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

func openDB(t testing.TB) *tsdb.DB {
	t.Helper()
	o := tsdb.DefaultOptions()
	o.CompactInterval = -1
	db, err := tsdb.Open(t.TempDir(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// seriesBody is a remote-write body of n series named name, one sample
// each at ms.
func seriesBody(name string, n int, ms int64) []byte {
	series := make([]TimeSeries, n)
	for i := range series {
		series[i] = TimeSeries{Labels: tsdb.FromStrings("__name__", name, "i", fmt.Sprint(i)), Samples: []Sample{{1, ms}}}
	}
	return snappy.Encode(nil, AppendWriteRequest(nil, series))
}

// write sends body as token and returns the handler's error.
func write(rc *Receiver, token string, body io.Reader, length int64) error {
	r := httptest.NewRequest("POST", "/api/v1/write", body)
	r.ContentLength = length
	r = r.WithContext(auth.WithPrincipal(r.Context(), &auth.Principal{TokenID: token}))
	return rc.ServeWrite(httptest.NewRecorder(), r)
}

func status(err error) int {
	var he *httpapi.Error
	if errors.As(err, &he) {
		return he.Status
	}
	if err == nil {
		return http.StatusNoContent
	}
	return 0
}

func TestWriteRequestBytesBounded(t *testing.T) {
	lim := DefaultWriteLimits()
	lim.MaxRequestBytes = 1 << 20
	rc := &Receiver{Storage: DBAppendable{DB: openDB(t)}, Limits: lim}
	// 2 MiB of zeros compresses to a small body that decodes past the limit.
	big := snappy.Encode(nil, make([]byte, 2<<20))
	err := write(rc, "a", strings.NewReader(string(big)), int64(len(big)))
	if status(err) != http.StatusRequestEntityTooLarge || !strings.Contains(err.Error(), "decodes to 2097152 bytes, more than 1048576 (limit: --metrics-write-max-request-bytes)") {
		t.Fatalf("a body decoding to 2 MiB: %v", err)
	}
	// A body stated, or found, larger than the limit is not read.
	err = write(rc, "a", strings.NewReader(strings.Repeat("x", 2<<20)), 2<<20)
	if status(err) != http.StatusRequestEntityTooLarge || !strings.Contains(err.Error(), "--metrics-write-max-request-bytes") {
		t.Fatalf("a stated 2 MiB body: %v", err)
	}
	err = write(rc, "a", strings.NewReader(strings.Repeat("x", 2<<20)), -1)
	if status(err) != http.StatusRequestEntityTooLarge {
		t.Fatalf("an unstated 2 MiB body: %v", err)
	}
	body := seriesBody("ok", 10, time.Now().UnixMilli())
	if err := write(rc, "a", strings.NewReader(string(body)), int64(len(body))); err != nil {
		t.Fatalf("a small request: %v", err)
	}
}

// TestWriteBytesInFlightBounded holds requests whose bodies have not
// arrived: each holds the most a body may be, and the next is refused
// with 503 and Retry-After until one ends.
func TestWriteBytesInFlightBounded(t *testing.T) {
	lim := DefaultWriteLimits()
	lim.MaxRequestBytes, lim.MaxInFlightBytes = 1<<20, 2<<20
	rc := &Receiver{Storage: DBAppendable{DB: openDB(t)}, Limits: lim}
	var writers []*io.PipeWriter
	done := make(chan error, 2)
	for i := 0; i < 2; i++ {
		pr, pw := io.Pipe()
		writers = append(writers, pw)
		go func() { done <- write(rc, "a", pr, -1) }()
	}
	// Wait until both hold their reservation.
	deadline := time.Now().Add(10 * time.Second)
	for rc.inflight.used.Load() < 2<<20 {
		if time.Now().After(deadline) {
			t.Fatalf("in flight %d, want %d", rc.inflight.used.Load(), 2<<20)
		}
		time.Sleep(time.Millisecond)
	}
	body := seriesBody("ok", 10, time.Now().UnixMilli())
	r := httptest.NewRequest("POST", "/api/v1/write", strings.NewReader(string(body)))
	w := httptest.NewRecorder()
	err := rc.ServeWrite(w, r)
	if status(err) != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" ||
		!strings.Contains(err.Error(), "more than 2097152 bytes in flight (limit: --metrics-write-max-inflight-bytes)") {
		t.Fatalf("a third request: %v (Retry-After %q)", err, w.Header().Get("Retry-After"))
	}
	if rc.Stats.Busy.Load() != 1 {
		t.Fatalf("busy count %d", rc.Stats.Busy.Load())
	}
	// The held requests finish (with a bad body); their bytes are free.
	for _, pw := range writers {
		pw.Write([]byte("not snappy"))
		pw.Close()
	}
	for i := 0; i < 2; i++ {
		if err := <-done; status(err) != http.StatusBadRequest {
			t.Fatalf("held request: %v", err)
		}
	}
	if err := write(rc, "a", strings.NewReader(string(body)), int64(len(body))); err != nil {
		t.Fatalf("after the others ended: %v", err)
	}
	if n := rc.inflight.used.Load(); n != 0 {
		t.Fatalf("%d bytes still in flight", n)
	}
}

func TestOversizedBuffersAreNotPooled(t *testing.T) {
	var p bufferPool
	p.put(&writeBuffers{body: make([]byte, 0, 1<<20), decoded: make([]byte, 1<<20), req: WriteRequest{Series: make([]TimeSeries, 100)}})
	if len(p.free) != 1 {
		t.Fatalf("ordinary buffers were dropped: %d pooled", len(p.free))
	}
	p.free = nil
	p.put(&writeBuffers{body: make([]byte, 0, 64<<20), decoded: make([]byte, 256<<20)})
	p.put(&writeBuffers{req: WriteRequest{Series: make([]TimeSeries, pooledMax/int(unsafe.Sizeof(TimeSeries{}))+1)}})
	p.put(&writeBuffers{req: WriteRequest{labels: make([]tsdb.Label, pooledMax/int(unsafe.Sizeof(tsdb.Label{}))+1)}})
	if len(p.free) != 0 {
		t.Fatalf("a large request's buffers stay in the pool: %d pooled", len(p.free))
	}
}

// TestPooledBuffersBounded: during a burst of concurrent requests the
// receiver reuses at most pooledBuffersMax requests' buffers, and once no
// request has come for an idle check it keeps none.
func TestPooledBuffersBounded(t *testing.T) {
	rc := &Receiver{Storage: DBAppendable{DB: openDB(t)}}
	scheduled := 0
	rc.pool.schedule = func(d time.Duration, _ func()) {
		if d != poolIdleAfter {
			t.Errorf("idle check scheduled after %v, want %v", d, poolIdleAfter)
		}
		scheduled++
	}
	series := make([]TimeSeries, 2000)
	for i := range series {
		series[i] = TimeSeries{Labels: tsdb.FromStrings("__name__", "burst", "i", strconv.Itoa(i)),
			Samples: []Sample{{Value: 1, Timestamp: 1_700_000_000_000}}}
	}
	body := snappy.Encode(nil, AppendWriteRequest(nil, series))
	held := make([]*writeBuffers, pooledBuffersMax+8)
	for i := range held {
		held[i] = rc.pool.get() // more senders at once than are pooled
	}
	for _, b := range held {
		rc.pool.put(b)
	}
	if n := rc.pool.pooled(); n != pooledBuffersMax {
		t.Fatalf("%d request buffers pooled after the burst, want %d", n, pooledBuffersMax)
	}
	for range 3 {
		r := httptest.NewRequest("POST", "/api/v1/write", bytes.NewReader(body))
		if err := rc.ServeWrite(httptest.NewRecorder(), r); err != nil {
			t.Fatal(err)
		}
	}
	if n := rc.pool.pooled(); n != pooledBuffersMax {
		t.Fatalf("%d request buffers pooled after reuse, want %d", n, pooledBuffersMax)
	}
	if scheduled != 1 {
		t.Fatalf("%d idle checks scheduled, want 1", scheduled)
	}
	for _, b := range rc.pool.free {
		if b.size() > pooledMax {
			t.Fatalf("pooled buffers hold %d bytes", b.size())
		}
	}
	// The first check after the burst sees requests taken since; the
	// next sees none and lets the buffers go.
	rc.pool.idleCheck()
	if rc.pool.pooled() == 0 || scheduled != 2 {
		t.Fatalf("buffers let go right after the burst (%d checks scheduled)", scheduled)
	}
	rc.pool.idleCheck()
	if n := rc.pool.pooled(); n != 0 {
		t.Fatalf("%d request buffers still pooled when idle", n)
	}
	if rc.pool.put(&writeBuffers{}); scheduled != 3 {
		t.Fatalf("no idle check scheduled when buffers are pooled again (%d)", scheduled)
	}
}

func TestNewSeriesPerRequestLimited(t *testing.T) {
	db := openDB(t)
	lim := DefaultWriteLimits()
	lim.MaxNewSeriesPerRequest = 100
	rc := &Receiver{Storage: DBAppendable{DB: db}, Limits: lim}
	ms := time.Now().UnixMilli()
	body := seriesBody("many", 101, ms)
	err := write(rc, "a", strings.NewReader(string(body)), int64(len(body)))
	if status(err) != http.StatusTooManyRequests || !strings.Contains(err.Error(), "more than 100 new series (limit: --metrics-write-max-new-series-per-request)") {
		t.Fatalf("101 new series: %v", err)
	}
	if st, err := db.Stats(0); err != nil || st.HeadSeries != 0 {
		n := st.HeadSeries
		t.Fatalf("the refused request left %d series", n)
	}
	body = seriesBody("many", 100, ms)
	if err := write(rc, "a", strings.NewReader(string(body)), int64(len(body))); err != nil {
		t.Fatalf("100 new series: %v", err)
	}
	// Series that exist are not new: 100 of them and 100 new pass.
	series := make([]TimeSeries, 200)
	for i := range series {
		name := "many"
		if i >= 100 {
			name = "more"
		}
		series[i] = TimeSeries{Labels: tsdb.FromStrings("__name__", name, "i", fmt.Sprint(i%100)), Samples: []Sample{{2, ms + 1}}}
	}
	body = snappy.Encode(nil, AppendWriteRequest(nil, series))
	if err := write(rc, "a", strings.NewReader(string(body)), int64(len(body))); err != nil {
		t.Fatalf("100 existing and 100 new series: %v", err)
	}
	if rc.Stats.SeriesLimited.Load() != 1 {
		t.Fatalf("series-limited count %d", rc.Stats.SeriesLimited.Load())
	}
}

func TestNewSeriesPerTokenLimited(t *testing.T) {
	now := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	lim := DefaultWriteLimits()
	lim.MaxNewSeriesPerRequest, lim.MaxNewSeriesPerToken = 100, 150
	rc := &Receiver{Storage: DBAppendable{DB: openDB(t)}, Limits: lim, Now: func() time.Time { return now }}
	send := func(token, name string, n int) error {
		body := seriesBody(name, n, now.UnixMilli())
		return write(rc, token, strings.NewReader(string(body)), int64(len(body)))
	}
	if err := send("a", "first", 100); err != nil {
		t.Fatal(err)
	}
	err := send("a", "second", 60)
	if status(err) != http.StatusTooManyRequests || !strings.Contains(err.Error(), "more than 50 new series (limit: --metrics-write-max-new-series-per-token, 150 an hour; this token may create more from 2026-05-06T08:08:09Z)") {
		t.Fatalf("a token's 160th series: %v", err)
	}
	if err := send("b", "second", 60); err != nil {
		t.Fatalf("another token: %v", err)
	}
	if err := send("a", "third", 50); err != nil {
		t.Fatalf("the rest of a token's budget: %v", err)
	}
	now = now.Add(time.Hour)
	if err := send("a", "second", 60); err != nil {
		t.Fatalf("an hour later: %v", err)
	}
}

func TestWriteLimitsValidate(t *testing.T) {
	if err := DefaultWriteLimits().Validate(); err != nil {
		t.Fatal(err)
	}
	l := DefaultWriteLimits()
	l.MaxInFlightBytes = int64(l.MaxRequestBytes)
	if err := l.Validate(); err == nil || !strings.Contains(err.Error(), "metrics-write-max-inflight-bytes: must hold one request") {
		t.Fatalf("Validate: %v", err)
	}
}

// pooled returns how many requests' buffers are kept.
func (p *bufferPool) pooled() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.free)
}
