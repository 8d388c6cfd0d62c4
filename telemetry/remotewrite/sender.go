package remotewrite

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang/snappy"

	"github.com/gaffer-sre/gaffer/telemetry/prom"
)

// Endpoint is a remote-write receiver: its URL (the whole push URL, e.g.
// https://mimir.example/api/v1/push) and what to send with each request.
type Endpoint struct {
	URL string
	// Headers are added to every request (e.g. X-Scope-OrgID for Mimir).
	Headers map[string]string
	// BearerTokenFile, when set, is read before each request and its
	// content, trimmed, sent as a bearer token (so a rotated token is
	// picked up without a restart).
	BearerTokenFile string
}

// Options shape a Sender.
type Options struct {
	// Shards is how many requests of one batch are sent at once; the
	// samples of one series always go to the same shard, in order.
	Shards int
	// BatchSamples is the most samples one request carries (one record of
	// the queue may be split over several requests, never merged past it).
	BatchSamples int
	// MinBackoff and MaxBackoff bound the wait before a retry, doubled at
	// each attempt. A Retry-After answer is honoured up to MaxBackoff.
	MinBackoff, MaxBackoff time.Duration
}

// DefaultOptions are the flags' defaults, close to Prometheus's
// remote_write queue_config.
func DefaultOptions() Options {
	return Options{Shards: 4, BatchSamples: 2000, MinBackoff: 30 * time.Millisecond, MaxBackoff: 5 * time.Second}
}

// Validate names the first option out of range.
func (o Options) Validate() error {
	switch {
	case o.Shards < 1 || o.Shards > 256:
		return fmt.Errorf("shards: want 1..256, got %d", o.Shards)
	case o.BatchSamples < 1:
		return fmt.Errorf("batch samples: must be positive, got %d", o.BatchSamples)
	case o.MinBackoff <= 0 || o.MaxBackoff < o.MinBackoff:
		return fmt.Errorf("backoff: want 0 < min (%v) <= max (%v)", o.MinBackoff, o.MaxBackoff)
	}
	return nil
}

// SenderStats count what a Sender did since it was made.
type SenderStats struct {
	// Sent counts samples the receiver acknowledged.
	Sent atomic.Int64
	// Failed counts samples the receiver refused for good (a 4xx answer
	// other than 429): they are not retried.
	Failed atomic.Int64
	// Retries counts requests sent again after a 5xx, a 429 or a network
	// error.
	Retries atomic.Int64
}

// Sender reads a Queue and sends its samples to one receiver with remote
// write 1.0 (snappy-compressed protobuf). Failures that may pass (network
// errors, 5xx, 429) are retried with exponential backoff for as long as it
// runs — the queue keeps the samples meanwhile, up to its bound; other 4xx
// answers are logged and their samples counted as failed.
type Sender struct {
	Endpoint Endpoint
	Queue    *Queue
	Options  Options
	// HTTP sends the requests: the platform's egress client.
	HTTP *http.Client
	Log  *slog.Logger
	// Wait sleeps d or until ctx ends; nil is a timer. Tests replace it.
	Wait  func(ctx context.Context, d time.Duration) error
	Stats SenderStats
	seed  maphash.Seed
	once  sync.Once
}

// Run sends until ctx ends; what it has not sent stays in the queue.
func (s *Sender) Run(ctx context.Context) {
	s.once.Do(func() { s.seed = maphash.MakeSeed() })
	for {
		b, err := s.Queue.Next(ctx, s.Options.BatchSamples)
		if err != nil {
			if ctx.Err() == nil {
				s.log().Error("remote write: cannot read the queue; stopping", "error", err)
			}
			return
		}
		if err := s.sendBatch(ctx, b); err != nil {
			return // ctx ended; the batch is sent again after a restart
		}
		if err := s.Queue.Ack(b); err != nil {
			s.log().Error("remote write: cannot record progress; the batch may be sent twice after a restart", "error", err)
		}
	}
}

func (s *Sender) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

// sendBatch sends b over the shards, each shard's requests in order, and
// returns when every request has been acknowledged or refused for good,
// or with ctx's error.
func (s *Sender) sendBatch(ctx context.Context, b Batch) error {
	shards := make([][]prom.TimeSeries, s.Options.Shards)
	for _, ts := range b.Series {
		i := 0
		if len(shards) > 1 {
			var h maphash.Hash
			h.SetSeed(s.seed)
			for _, l := range ts.Labels {
				h.WriteString(l.Name)
				h.WriteByte(0xff)
				h.WriteString(l.Value)
				h.WriteByte(0xff)
			}
			i = int(h.Sum64() % uint64(len(shards)))
		}
		shards[i] = append(shards[i], ts)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(shards))
	for i, series := range shards {
		if len(series) == 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, req := range split(series, s.Options.BatchSamples) {
				if errs[i] = s.sendWithRetry(ctx, req); errs[i] != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// split cuts series into requests of at most max samples.
func split(series []prom.TimeSeries, max int) [][]prom.TimeSeries {
	var out [][]prom.TimeSeries
	var cur []prom.TimeSeries
	n := 0
	for _, ts := range series {
		for len(ts.Samples) > 0 {
			take := min(len(ts.Samples), max-n)
			cur = append(cur, prom.TimeSeries{Labels: ts.Labels, Samples: ts.Samples[:take]})
			ts.Samples = ts.Samples[take:]
			if n += take; n == max {
				out, cur, n = append(out, cur), nil, 0
			}
		}
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// sendWithRetry sends one request until it is acknowledged or refused for
// good; it returns an error only when ctx ends.
func (s *Sender) sendWithRetry(ctx context.Context, series []prom.TimeSeries) error {
	body := snappy.Encode(nil, prom.AppendWriteRequest(nil, series))
	n := int64(countSamples(series))
	backoff := s.Options.MinBackoff
	for attempt := 0; ; attempt++ {
		retryAfter, err := s.post(ctx, body)
		if err == nil {
			s.Stats.Sent.Add(n)
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var perm *permanentError
		if errors.As(err, &perm) {
			s.Stats.Failed.Add(n)
			s.log().Error("remote write: the receiver refused samples; not retrying them",
				"url", s.Endpoint.URL, "samples", n, "error", err)
			return nil
		}
		s.Stats.Retries.Add(1)
		wait := backoff
		if retryAfter > 0 {
			wait = min(retryAfter, s.Options.MaxBackoff)
		}
		if attempt == 0 || attempt%10 == 9 {
			s.log().Warn("remote write failed; retrying", "url", s.Endpoint.URL, "attempt", attempt+1, "wait", wait, "error", err)
		}
		if err := s.wait(ctx, wait); err != nil {
			return err
		}
		backoff = min(2*backoff, s.Options.MaxBackoff)
	}
}

func (s *Sender) wait(ctx context.Context, d time.Duration) error {
	if s.Wait != nil {
		return s.Wait(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// permanentError is an answer not worth retrying: a 4xx other than 429.
type permanentError struct {
	status int
	body   string
}

func (e *permanentError) Error() string {
	return fmt.Sprintf("HTTP %d: %s", e.status, e.body)
}

// post sends one request; it returns the Retry-After of a 429 or 5xx
// answer, if any, and a *permanentError for an answer not to retry.
func (s *Sender) post(ctx context.Context, body []byte) (time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.Endpoint.URL, bytes.NewReader(body))
	if err != nil {
		return 0, &permanentError{body: err.Error()}
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("Content-Encoding", "snappy")
	req.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	req.Header.Set("User-Agent", "Gaffer")
	for k, v := range s.Endpoint.Headers {
		req.Header.Set(k, v)
	}
	if s.Endpoint.BearerTokenFile != "" {
		tok, err := os.ReadFile(s.Endpoint.BearerTokenFile)
		if err != nil {
			return 0, fmt.Errorf("bearer token file: %w", err) // retried: the file may come back
		}
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
	}
	resp, err := s.HTTP.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	excerpt, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	switch {
	case resp.StatusCode/100 == 2:
		return 0, nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode/100 == 5:
		return retryAfter(resp.Header.Get("Retry-After")), fmt.Errorf("HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(excerpt)))
	default:
		return 0, &permanentError{status: resp.StatusCode, body: strings.TrimSpace(string(excerpt))}
	}
}

// retryAfter reads a Retry-After header given in seconds (dates are
// ignored: the backoff applies).
func retryAfter(v string) time.Duration {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n <= 0 {
		return 0
	}
	return time.Duration(n) * time.Second
}
