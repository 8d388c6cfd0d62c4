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

	"github.com/golang/snappy"

	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

// Limits on remote-write bodies.
const (
	MaxCompressedBytes = 32 << 20
	MaxDecodedBytes    = 256 << 20
)

// Receiver serves POST /api/v1/write: Prometheus remote write 1.0.
type Receiver struct {
	Storage Appendable
	Log     *slog.Logger
	// Stats count what the receiver did; read them with Load.
	Stats ReceiverStats

	warnHistograms sync.Once
	pool           sync.Pool
}

// ReceiverStats are the receiver's counters.
type ReceiverStats struct {
	Requests, Samples, Refused, Histograms, Errors atomic.Int64
}

type writeBuffers struct {
	body, decoded []byte
	req           WriteRequest
}

// Route returns the write route, guarded by scope.
func (rc *Receiver) Route(scope string) httpapi.Route {
	return httpapi.Route{Method: "POST", Path: "/api/v1/write", Scope: scope, Action: "metrics.write", AuditSummary: true,
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
	bufs, _ := rc.pool.Get().(*writeBuffers)
	if bufs == nil {
		bufs = &writeBuffers{}
	}
	defer rc.pool.Put(bufs)
	body, err := readBody(r.Body, bufs.body[:0])
	bufs.body = body
	if err != nil {
		return err
	}
	n, err := snappy.DecodedLen(body)
	if err != nil {
		return httpapi.BadRequest("body: not snappy block format: %v", err)
	}
	if n > MaxDecodedBytes {
		return httpapi.Errorf(http.StatusRequestEntityTooLarge, "too_large", "body: decodes to %d bytes, more than %d", n, MaxDecodedBytes)
	}
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
	res, err := Store(rc.Storage, series)
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

func readBody(r io.Reader, buf []byte) ([]byte, error) {
	b := bytes.NewBuffer(buf)
	n, err := b.ReadFrom(io.LimitReader(r, MaxCompressedBytes+1))
	if err != nil {
		return b.Bytes(), httpapi.BadRequest("body: read: %v", err)
	}
	if n > MaxCompressedBytes {
		return b.Bytes(), httpapi.Errorf(http.StatusRequestEntityTooLarge, "too_large", "body: larger than %d bytes", MaxCompressedBytes)
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
	)
	switch {
	case errors.As(err, &verr):
		return httpapi.Errorf(http.StatusBadRequest, "invalid_series", "%v; nothing of this request was stored", verr)
	case errors.As(err, &lerr):
		return httpapi.Errorf(http.StatusBadRequest, "series_limit", "%v; nothing of this request was stored", lerr)
	case errors.Is(err, tsdb.ErrStorageFull):
		return httpapi.Unavailable("storage full: %v; nothing of this request was stored, retry later", err)
	case errors.Is(err, tsdb.ErrClosed), errors.Is(err, tsdb.ErrReadOnly):
		return httpapi.Unavailable("store unavailable: %v", err)
	}
	return fmt.Errorf("store samples: %w", err)
}
