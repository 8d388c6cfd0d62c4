package prom

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/golang/snappy"

	"github.com/gaffer-sre/gaffer/internal/platform/auth"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

// pooledMax is the most bytes one request's buffers may hold and still
// be kept for the next request: larger ones, from a rare large request,
// go to the garbage collector rather than staying allocated.
const pooledMax = 4 << 20

// Receiver serves POST /api/v1/write: Prometheus remote write 1.0.
type Receiver struct {
	Storage Appendable
	Log     *slog.Logger
	// Limits bound requests; the zero value means DefaultWriteLimits.
	// Set them before the first request.
	Limits WriteLimits
	// Now is the clock of the per-token series budget; time.Now if nil.
	Now func() time.Time
	// Stats count what the receiver did; read them with Load.
	Stats ReceiverStats

	warnHistograms sync.Once
	pool           bufferPool
	init           sync.Once
	inflight       byteBudget
	series         seriesBudget
}

// ReceiverStats are the receiver's counters. Busy counts requests refused
// for the in-flight bound; SeriesLimited those refused for a new-series
// limit.
type ReceiverStats struct {
	Requests, Samples, Refused, Histograms, Errors, Busy, SeriesLimited atomic.Int64
}

type writeBuffers struct {
	body, decoded []byte
	req           WriteRequest
}

// size is the bytes b's buffers hold, the label strings (which point
// into decoded) aside.
func (b *writeBuffers) size() int {
	r := &b.req
	return cap(b.body) + cap(b.decoded) +
		cap(r.Series)*int(unsafe.Sizeof(TimeSeries{})) +
		cap(r.labels)*int(unsafe.Sizeof(tsdb.Label{})) +
		cap(r.samples)*int(unsafe.Sizeof(Sample{})) +
		cap(r.ends)*int(unsafe.Sizeof(seriesEnd{}))
}

// pooledBuffersMax is the most request buffers kept for reuse: one for
// each of up to 16 concurrent senders (bench/prom's steady workload has
// eight).
const pooledBuffersMax = 16

// poolIdleAfter is how long the pool goes without a request before it
// lets its buffers go.
const poolIdleAfter = time.Second

// bufferPool keeps request buffers for reuse while requests come, at most
// pooledBuffersMax, and lets them all go once no request has taken one
// for poolIdleAfter. Keeping one per processor instead made each of
// eight concurrent senders' requests allocate its buffers afresh, and
// the garbage raised the RSS after bench/prom's steady ingest by about
// 10 MB; a sync.Pool kept them until two garbage collections had
// passed, which an idle server does not run.
type bufferPool struct {
	mu    sync.Mutex
	free  []*writeBuffers
	taken bool // a request took buffers since the last idle check
	armed bool // an idle check is scheduled
	// schedule runs f after d; time.AfterFunc if nil (tests run the
	// checks themselves).
	schedule func(d time.Duration, f func())
}

// scheduleIdleCheck runs idleCheck after poolIdleAfter; p.mu is held.
func (p *bufferPool) scheduleIdleCheck() {
	if p.schedule != nil {
		p.schedule(poolIdleAfter, p.idleCheck)
		return
	}
	time.AfterFunc(poolIdleAfter, p.idleCheck)
}

// get returns pooled buffers, or new ones.
func (p *bufferPool) get() *writeBuffers {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.taken = true
	if n := len(p.free); n > 0 {
		b := p.free[n-1]
		p.free[n-1] = nil
		p.free = p.free[:n-1]
		return b
	}
	return &writeBuffers{}
}

// put keeps b for a later request unless the pool is full or b holds
// more than pooledMax bytes.
func (p *bufferPool) put(b *writeBuffers) {
	if b.size() > pooledMax {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.free) < pooledBuffersMax {
		p.free = append(p.free, b)
	}
	if !p.armed {
		p.armed = true
		p.scheduleIdleCheck()
	}
}

// idleCheck lets the pooled buffers go if no request took any since the
// last check, and otherwise checks again after poolIdleAfter.
func (p *bufferPool) idleCheck() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.taken && len(p.free) > 0 {
		p.taken = false
		p.scheduleIdleCheck()
		return
	}
	p.free, p.taken, p.armed = nil, false, false
}

// Route returns the write route, guarded by scope.
func (rc *Receiver) Route(scope string) httpapi.Route {
	return httpapi.Route{Method: "POST", Path: "/api/v1/write", Scope: scope, Action: "metrics.samples.write", AuditSummary: true,
		Summary: "Prometheus remote write 1.0 (snappy-compressed protobuf WriteRequest); 204 when stored",
		Handler: rc.ServeWrite}
}

// ServeWrite decodes and stores one remote-write request.
func (rc *Receiver) ServeWrite(w http.ResponseWriter, r *http.Request) error {
	rc.Stats.Requests.Add(1)
	if err := rc.serve(w, r); err != nil {
		rc.Stats.Errors.Add(1)
		return err
	}
	return nil
}

func (rc *Receiver) serve(w http.ResponseWriter, r *http.Request) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if !strings.HasPrefix(ct, "application/x-protobuf") {
			return httpapi.Errorf(http.StatusUnsupportedMediaType, "unsupported_media_type",
				"Content-Type %q: want application/x-protobuf (remote write 1.0)", ct)
		}
		if strings.Contains(ct, "proto=") && !strings.Contains(ct, "proto=prometheus.WriteRequest") {
			return httpapi.Errorf(http.StatusUnsupportedMediaType, "unsupported_media_type",
				"Content-Type %q: only remote write 1.0 (prometheus.WriteRequest) is supported", ct)
		}
	}
	if enc := r.Header.Get("Content-Encoding"); enc != "" && enc != "snappy" {
		return httpapi.Errorf(http.StatusUnsupportedMediaType, "unsupported_media_type",
			"Content-Encoding %q: want snappy", enc)
	}
	rc.init.Do(func() {
		if rc.Limits == (WriteLimits{}) {
			rc.Limits = DefaultWriteLimits()
		}
		rc.inflight.max = rc.Limits.MaxInFlightBytes
		rc.series.max = rc.Limits.MaxNewSeriesPerToken
	})
	maxBytes := int64(rc.Limits.MaxRequestBytes)
	if r.ContentLength > maxBytes {
		return httpapi.Errorf(http.StatusRequestEntityTooLarge, "too_large",
			"body: %d bytes, more than %d (limit: --metrics-write-max-request-bytes)", r.ContentLength, maxBytes)
	}
	// The body's bytes are reserved before it is read: its length when
	// the request states it, else the most it may be.
	reserved := maxBytes
	if r.ContentLength >= 0 {
		reserved = r.ContentLength
	}
	if err := rc.reserve(w, reserved); err != nil {
		return err
	}
	defer func() { rc.inflight.give(reserved) }()
	bufs := rc.pool.get()
	defer rc.pool.put(bufs)
	body, err := readBody(r.Body, bufs.body[:0], maxBytes)
	bufs.body = body
	if err != nil {
		return err
	}
	rc.inflight.give(reserved - int64(len(body)))
	reserved = int64(len(body))
	n, err := snappy.DecodedLen(body)
	if err != nil {
		return httpapi.BadRequest("body: not snappy block format: %v", err)
	}
	if int64(n) > maxBytes {
		return httpapi.Errorf(http.StatusRequestEntityTooLarge, "too_large",
			"body: decodes to %d bytes, more than %d (limit: --metrics-write-max-request-bytes)", n, maxBytes)
	}
	if err := rc.reserve(w, int64(n)); err != nil {
		return err
	}
	reserved += int64(n)
	if cap(bufs.decoded) < n {
		bufs.decoded = make([]byte, n)
	}
	decoded, err := snappy.Decode(bufs.decoded[:n], body)
	if err != nil {
		return httpapi.BadRequest("body: not snappy block format: %v", err)
	}
	if err := DecodeWriteRequest(decoded, &bufs.req); err != nil {
		return httpapi.BadRequest("body: %v", err)
	}
	series := bufs.req.Series
	histograms := 0
	for i := range series {
		histograms += series[i].Histograms
	}
	if histograms > 0 {
		rc.Stats.Histograms.Add(int64(histograms))
		rc.warnHistograms.Do(func() {
			rc.log().Warn("remote write: native histogram samples are not stored (classic histograms are); dropping them",
				"first_batch", histograms)
		})
	}
	res, err := rc.store(r, series)
	if err != nil {
		if errors.Is(err, tsdb.ErrStorageFull) {
			w.Header().Set("Retry-After", "30")
		}
		return WriteError(err)
	}
	rc.Stats.Samples.Add(int64(res.Stored))
	if res.Refused > 0 {
		rc.Stats.Refused.Add(int64(res.Refused))
		return httpapi.Errorf(http.StatusBadRequest, "samples_refused", "%v", res.Err())
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (rc *Receiver) log() *slog.Logger {
	if rc.Log != nil {
		return rc.Log
	}
	return slog.Default()
}

// reserve takes n bytes of the in-flight bound or answers 503.
func (rc *Receiver) reserve(w http.ResponseWriter, n int64) error {
	if rc.inflight.take(n) {
		return nil
	}
	rc.Stats.Busy.Add(1)
	w.Header().Set("Retry-After", "5")
	return httpapi.Unavailable("remote write: more than %d bytes in flight (limit: --metrics-write-max-inflight-bytes); retry later",
		rc.inflight.max)
}

// store writes series within the request's and the token's new-series
// limits.
func (rc *Receiver) store(r *http.Request, series []TimeSeries) (StoreResult, error) {
	token := "anonymous"
	if p := auth.FromContext(r.Context()); p != nil {
		token = p.TokenID
	}
	now := time.Now
	if rc.Now != nil {
		now = rc.Now
	}
	perRequest := rc.Limits.MaxNewSeriesPerRequest
	took, ends := rc.series.reserve(token, now(), perRequest)
	limit := NewSeriesError{Max: perRequest, Limit: "metrics-write-max-new-series-per-request"}
	if took < perRequest {
		limit = NewSeriesError{Max: took, Limit: "metrics-write-max-new-series-per-token",
			Window: fmt.Sprintf("%d an hour; this token may create more from %s", rc.Limits.MaxNewSeriesPerToken,
				ends.UTC().Format(time.RFC3339))}
	}
	res, err := StoreLimited(rc.Storage, series, limit)
	rc.series.refund(token, took-res.NewSeries)
	var nse *NewSeriesError
	if errors.As(err, &nse) {
		rc.Stats.SeriesLimited.Add(1)
	}
	return res, err
}

func readBody(r io.Reader, buf []byte, max int64) ([]byte, error) {
	b := bytes.NewBuffer(buf)
	n, err := b.ReadFrom(io.LimitReader(r, max+1))
	if err != nil {
		return b.Bytes(), httpapi.BadRequest("body: read: %v", err)
	}
	if n > max {
		return b.Bytes(), httpapi.Errorf(http.StatusRequestEntityTooLarge, "too_large",
			"body: larger than %d bytes (limit: --metrics-write-max-request-bytes)", max)
	}
	return b.Bytes(), nil
}

// WriteError maps a store error to the HTTP error a writer gets: 400 for
// an invalid series or a cardinality limit (naming the metric; nothing of
// the batch was stored), 503 for a full disk or a closed store.
func WriteError(err error) error {
	var (
		verr *tsdb.ValidationError
		lerr *tsdb.LimitError
		nerr *NewSeriesError
	)
	switch {
	case errors.As(err, &verr):
		return httpapi.Errorf(http.StatusBadRequest, "invalid_series", "%v; nothing of this request was stored", verr)
	case errors.As(err, &lerr):
		return httpapi.Errorf(http.StatusBadRequest, "series_limit", "%v; nothing of this request was stored", lerr)
	case errors.As(err, &nerr):
		return httpapi.Errorf(http.StatusTooManyRequests, "series_limit", "%v; nothing of this request was stored", nerr)
	case errors.Is(err, tsdb.ErrStorageFull):
		return httpapi.Unavailable("storage full: %v; nothing of this request was stored, retry later", err)
	case errors.Is(err, tsdb.ErrClosed), errors.Is(err, tsdb.ErrReadOnly):
		return httpapi.Unavailable("store unavailable: %v", err)
	}
	return fmt.Errorf("store samples: %w", err)
}
