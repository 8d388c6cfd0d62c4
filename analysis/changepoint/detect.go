package changepoint

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gaffer-sre/gaffer/analysis/changepoint/detect"
	"github.com/gaffer-sre/gaffer/analysis/changepoint/signalio"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
)

// maxBodyBytes bounds a detect request: MaxValues numbers as JSON text.
const maxBodyBytes = 48 << 20

// DetectRequest is the body of POST /api/v1/changepoint/detect: a signal
// and ruptures' parameters (exactly one of pen, n_bkps and epsilon).
type DetectRequest struct {
	// Signal is an array of numbers (one dimension), an array of arrays
	// (one per sample, one value per dimension), or a string holding CSV or
	// JSON text as `gaffer changepoint detect` reads it.
	Signal json.RawMessage `json:"signal"`
	detect.Params
}

// DetectResponse is the answer: the breakpoints (end index of every
// segment, the last equal to the number of samples) and the time the
// search took.
type DetectResponse struct {
	Bkps           []int   `json:"bkps"`
	ElapsedSeconds float64 `json:"elapsed_seconds"`
}

func (s *Service) handleDetect(w http.ResponseWriter, r *http.Request) error {
	var req DetectRequest
	if err := decodeBody(w, r, &req); err != nil {
		return err
	}
	if err := checkParams(req.Params); err != nil {
		return httpapi.BadRequest("%v", err)
	}
	sig, err := parseSignal(req.Signal)
	if err != nil {
		return err
	}
	httpapi.SetAuditDetail(r, fmt.Sprintf("%s/%s on %d x %d", req.Method, req.Cost, sig.Len(), sig.Dims()))
	bkps, elapsed, err := s.detect(r.Context(), sig, req.Params)
	if err != nil {
		return err
	}
	return httpapi.WriteJSON(w, http.StatusOK, DetectResponse{Bkps: bkps, ElapsedSeconds: elapsed.Seconds()})
}

// decodeBody is httpapi.DecodeJSON with a limit fit for large signals:
// unknown fields, wrong types and trailing data are 400s naming the field.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("unexpected data after the JSON value")
	}
	var (
		typeErr  *json.UnmarshalTypeError
		tooLarge *http.MaxBytesError
	)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, io.EOF):
		return httpapi.BadRequest("request body: empty; a JSON object is required")
	case errors.As(err, &tooLarge):
		return httpapi.Errorf(http.StatusRequestEntityTooLarge, "too_large", "request body: larger than %d bytes", tooLarge.Limit)
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return httpapi.BadRequest("%s: expected %s, got JSON %s", typeErr.Field, typeErr.Type, typeErr.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return httpapi.BadRequest("%s: unknown field", strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`))
	}
	return httpapi.BadRequest("request body: %v", err)
}

// parseSignal reads the signal field.
func parseSignal(raw json.RawMessage) (*detect.Signal, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, httpapi.BadRequest("signal: required: an array of numbers, an array of arrays, or CSV text")
	}
	var (
		sig *detect.Signal
		err error
	)
	switch raw[0] {
	case '"':
		var text string
		if err := json.Unmarshal(raw, &text); err != nil {
			return nil, httpapi.BadRequest("signal: %v", err)
		}
		sig, err = signalio.Parse([]byte(text))
	case '[':
		if bytes.Contains(raw, []byte("null")) {
			return nil, httpapi.BadRequest("signal: null values are not allowed; remove or fill missing samples")
		}
		if inner := bytes.TrimLeft(raw[1:], " \t\r\n"); len(inner) > 0 && inner[0] == '[' {
			var rows [][]float64
			if err := json.Unmarshal(raw, &rows); err != nil {
				return nil, httpapi.BadRequest("signal: want an array of arrays of numbers: %v", err)
			}
			if err := checkSize(len(rows), 1); err != nil {
				return nil, err
			}
			sig, err = detect.NewSignal(rows)
		} else {
			var xs []float64
			if err := json.Unmarshal(raw, &xs); err != nil {
				return nil, httpapi.BadRequest("signal: want an array of numbers: %v", err)
			}
			sig, err = detect.NewSignalFlat(xs, len(xs), 1)
		}
	default:
		return nil, httpapi.BadRequest("signal: want an array of numbers, an array of arrays, or CSV text")
	}
	if err != nil {
		return nil, httpapi.BadRequest("signal: %v", err)
	}
	return sig, checkSize(sig.Len(), sig.Dims())
}

func checkSize(n, d int) error {
	if n*d > MaxValues {
		return httpapi.BadRequest("signal: %d values, more than the limit of %d", n*d, MaxValues)
	}
	return nil
}

// detect runs one detection within the service's budget.
func (s *Service) detect(ctx context.Context, sig *detect.Signal, p detect.Params) ([]int, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, s.budget)
	defer cancel()
	return s.run(ctx, sig, p)
}

// run runs one detection until ctx's deadline, waiting for a free slot
// first (the wait counts against the deadline). Errors are 400s for bad
// input, 503s for a search stopped by the deadline.
func (s *Service) run(ctx context.Context, sig *detect.Signal, p detect.Params) ([]int, time.Duration, error) {
	select {
	case s.slots <- struct{}{}:
		defer func() { <-s.slots }()
	case <-ctx.Done():
		return nil, 0, s.stopped(ctx, "waiting for a free detection slot")
	}
	start := time.Now()
	bkps, err := detect.Detect(ctx, sig, p)
	elapsed := time.Since(start)
	switch {
	case err == nil:
		return bkps, elapsed, nil
	case ctx.Err() != nil:
		return nil, elapsed, s.stopped(ctx, fmt.Sprintf("after %s", elapsed.Round(time.Millisecond)))
	}
	// The library does no I/O: every other error is about the input.
	return nil, elapsed, httpapi.BadRequest("%v", err)
}

// stopped explains a detection ended by its deadline or by the client.
func (s *Service) stopped(ctx context.Context, when string) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return httpapi.Errorf(http.StatusServiceUnavailable, "timeout",
			"detection stopped %s: it exceeded the %s budget; use a shorter signal, a larger jump, or a faster method or cost", when, s.budget)
	}
	return fmt.Errorf("detection cancelled %s: %w", when, ctx.Err())
}
