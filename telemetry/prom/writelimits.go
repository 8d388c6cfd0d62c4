package prom

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// WriteLimits bound what remote write may take from the process.
type WriteLimits struct {
	// MaxRequestBytes is the most bytes one request may decode to
	// (--metrics-write-max-request-bytes); its compressed body may be no
	// larger either.
	MaxRequestBytes int
	// MaxInFlightBytes is the most bytes, compressed and decoded, the
	// requests being handled may hold at once
	// (--metrics-write-max-inflight-bytes); a request over it is refused
	// with 503 and Retry-After, which remote-write senders retry.
	MaxInFlightBytes int64
	// MaxNewSeriesPerRequest is the most series one request may create
	// (--metrics-write-max-new-series-per-request).
	MaxNewSeriesPerRequest int
	// MaxNewSeriesPerToken is the most series one token may create in an
	// hour (--metrics-write-max-new-series-per-token).
	MaxNewSeriesPerToken int
}

// DefaultWriteLimits are the limits a server uses unless its flags say
// otherwise: 32 MiB per request, 256 MiB in flight, 10,000 new series
// per request and 1,000,000 per token an hour (about 800 MB of head
// memory; a Prometheus that starts writing sends every series it has
// within minutes). A Prometheus sender's requests hold a few thousand
// samples, well under a megabyte.
func DefaultWriteLimits() WriteLimits {
	return WriteLimits{MaxRequestBytes: 32 << 20, MaxInFlightBytes: 256 << 20,
		MaxNewSeriesPerRequest: 10_000, MaxNewSeriesPerToken: 1_000_000}
}

// Validate reports a limit that is not positive or an in-flight bound
// that cannot hold one request, naming the flag.
func (l WriteLimits) Validate() error {
	switch {
	case l.MaxRequestBytes <= 0:
		return fmt.Errorf("metrics-write-max-request-bytes: must be positive, got %d", l.MaxRequestBytes)
	case l.MaxInFlightBytes < 2*int64(l.MaxRequestBytes):
		return fmt.Errorf("metrics-write-max-inflight-bytes: must hold one request compressed and decoded (%d bytes), got %d",
			2*int64(l.MaxRequestBytes), l.MaxInFlightBytes)
	case l.MaxNewSeriesPerRequest <= 0:
		return fmt.Errorf("metrics-write-max-new-series-per-request: must be positive, got %d", l.MaxNewSeriesPerRequest)
	case l.MaxNewSeriesPerToken <= 0:
		return fmt.Errorf("metrics-write-max-new-series-per-token: must be positive, got %d", l.MaxNewSeriesPerToken)
	}
	return nil
}

// byteBudget counts bytes in flight against a bound.
type byteBudget struct {
	max  int64
	used atomic.Int64
}

// take reserves n bytes; false when that would exceed the bound.
func (b *byteBudget) take(n int64) bool {
	for {
		cur := b.used.Load()
		if cur+n > b.max {
			return false
		}
		if b.used.CompareAndSwap(cur, cur+n) {
			return true
		}
	}
}

func (b *byteBudget) give(n int64) { b.used.Add(-n) }

// seriesWindow is how long a token's count of new series lasts.
const seriesWindow = time.Hour

// seriesBudget counts the series each token created in the current hour
// (a window that starts at the token's first write after the last one
// ended).
type seriesBudget struct {
	max int

	mu     sync.Mutex
	counts map[string]*tokenSeries
}

type tokenSeries struct {
	start time.Time
	n     int
}

// reserve takes up to want new series from token's budget at now and
// returns how many it took (0: the budget is spent) and when the window
// ends.
func (b *seriesBudget) reserve(token string, now time.Time, want int) (int, time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.counts == nil {
		b.counts = map[string]*tokenSeries{}
	}
	ts := b.counts[token]
	if ts == nil || now.Sub(ts.start) >= seriesWindow {
		if len(b.counts) > 10_000 {
			b.sweep(now)
		}
		ts = &tokenSeries{start: now}
		b.counts[token] = ts
	}
	got := min(want, b.max-ts.n)
	if got < 0 {
		got = 0
	}
	ts.n += got
	return got, ts.start.Add(seriesWindow)
}

// refund returns unused series to token's budget.
func (b *seriesBudget) refund(token string, n int) {
	if n <= 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if ts := b.counts[token]; ts != nil {
		ts.n = max(ts.n-n, 0)
	}
}

// sweep drops the windows that ended; b.mu is held.
func (b *seriesBudget) sweep(now time.Time) {
	for k, ts := range b.counts {
		if now.Sub(ts.start) >= seriesWindow {
			delete(b.counts, k)
		}
	}
}
