package metrics

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform"
	"github.com/gaffer-sre/gaffer/internal/platform/egress"
	"github.com/gaffer-sre/gaffer/telemetry/remotewrite"
	"github.com/gaffer-sre/gaffer/telemetry/spectator"
)

// remoteWriters forward every sample the store accepts to the
// --metrics-remote-write receivers: a queue and a sender each.
type remoteWriters struct {
	log    *slog.Logger
	reg    *spectator.Registry // nil: no self-metrics
	outs   []*remoteOut
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// remoteOut is one receiver.
type remoteOut struct {
	sender *remotewrite.Sender
	queue  *remotewrite.Queue
	remote string       // the URL without credentials, for logs and tags
	lost   atomic.Int64 // samples the queue could not take (disk full)
}

// QueueDir is where the queue of the receiver at rawURL lives under the
// data directory: <data-dir>/metrics-remote-write/<hash of the URL>.
func QueueDir(dataDir, rawURL string) string {
	sum := sha256.Sum256([]byte(rawURL))
	return filepath.Join(dataDir, "metrics-remote-write", hex.EncodeToString(sum[:8]))
}

// redactURL drops the user information and query of u, which may hold
// credentials.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(invalid URL)"
	}
	u.User, u.RawQuery = nil, ""
	return u.String()
}

// openRemoteWrite opens a queue per receiver; nil when none is set.
func openRemoteWrite(set *RemoteWriteSettings, deps *platform.Deps, log *slog.Logger) (*remoteWriters, error) {
	eps, err := set.endpoints()
	if err != nil || len(eps) == 0 {
		return nil, err
	}
	var pol *egress.Policy = deps.Egress
	client := pol.Client(egress.ClientOptions{Timeout: time.Minute, MaxIdleConnsPerHost: set.Shards})
	rw := &remoteWriters{log: log, reg: deps.Metrics}
	for _, ep := range eps {
		q, err := remotewrite.OpenQueue(QueueDir(deps.DataDir, ep.URL), set.MaxBytes, log.With("remote", redactURL(ep.URL)))
		if err != nil {
			rw.close()
			return nil, fmt.Errorf("metrics-remote-write %s: %w", redactURL(ep.URL), err)
		}
		out := &remoteOut{queue: q, remote: redactURL(ep.URL)}
		out.sender = &remotewrite.Sender{Endpoint: ep, Queue: q, Options: set.Options, HTTP: client,
			Log: log.With("remote", out.remote)}
		rw.outs = append(rw.outs, out)
		if st := q.Stats(); st.Pending > 0 {
			log.Info("remote write: samples queued before the restart will be sent", "remote", out.remote, "samples", st.Pending)
		}
	}
	return rw, nil
}

// sink is what the Tee hands committed samples to.
func (rw *remoteWriters) sink() remotewrite.Sink {
	qs := remotewrite.Queues{OnError: func(q *remotewrite.Queue, n int, err error) {
		for _, o := range rw.outs {
			if o.queue == q {
				o.lost.Add(int64(n))
				rw.log.Warn("remote write: cannot queue samples; they are stored here but will not be forwarded",
					"remote", o.remote, "samples", n, "error", err)
			}
		}
	}}
	for _, o := range rw.outs {
		qs.Queues = append(qs.Queues, o.queue)
	}
	return qs
}

// start runs the senders and the self-metrics reporter.
func (rw *remoteWriters) start() {
	ctx, cancel := context.WithCancel(context.Background())
	rw.cancel = cancel
	for _, o := range rw.outs {
		rw.wg.Add(1)
		go func() {
			defer rw.wg.Done()
			o.sender.Run(ctx)
		}()
	}
	rw.wg.Add(1)
	go func() {
		defer rw.wg.Done()
		t := time.NewTicker(time.Second) // cheap: six gauges per receiver
		defer t.Stop()
		for {
			rw.report()
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

// report sets the self-metrics gauges, one set per receiver.
func (rw *remoteWriters) report() {
	if rw.reg == nil {
		return
	}
	for _, o := range rw.outs {
		st := o.Stats()
		tags := map[string]string{"remote": o.remote}
		rw.reg.Gauge("gaffer_metrics_remote_write_pending_samples", tags).Set(float64(st.Pending))
		rw.reg.Gauge("gaffer_metrics_remote_write_sent_samples_total", tags).Set(float64(st.Sent))
		rw.reg.Gauge("gaffer_metrics_remote_write_failed_samples_total", tags).Set(float64(st.Failed))
		rw.reg.Gauge("gaffer_metrics_remote_write_retries_total", tags).Set(float64(st.Retries))
		rw.reg.Gauge("gaffer_metrics_remote_write_dropped_samples_total", tags).Set(float64(st.Dropped))
		rw.reg.Gauge("gaffer_metrics_remote_write_queue_bytes", tags).Set(float64(st.QueueBytes))
	}
}

// RemoteWriteOutStats describe one --metrics-remote-write receiver.
type RemoteWriteOutStats struct {
	Remote string `json:"remote"`
	// Pending samples are queued, not yet acknowledged by the receiver.
	Pending int64 `json:"pendingSamples"`
	Sent    int64 `json:"sentSamples"`
	// Failed samples were refused by the receiver with a 4xx.
	Failed  int64 `json:"failedSamples"`
	Retries int64 `json:"retries"`
	// Dropped samples were never sent: the queue was over its bound, a
	// queued record was damaged, or the queue could not be written.
	Dropped    int64 `json:"droppedSamples"`
	QueueBytes int64 `json:"queueBytes"`
}

// Stats returns the receiver's counts since the server started (Pending
// and QueueBytes: now).
func (o *remoteOut) Stats() RemoteWriteOutStats {
	q := o.queue.Stats()
	s := &o.sender.Stats
	return RemoteWriteOutStats{Remote: o.remote, Pending: q.Pending, Sent: s.Sent.Load(), Failed: s.Failed.Load(),
		Retries: s.Retries.Load(), Dropped: q.Dropped + o.lost.Load(), QueueBytes: q.Bytes}
}

// stats returns every receiver's counts.
func (rw *remoteWriters) stats() []RemoteWriteOutStats {
	if rw == nil {
		return nil
	}
	out := make([]RemoteWriteOutStats, len(rw.outs))
	for i, o := range rw.outs {
		out[i] = o.Stats()
	}
	return out
}

// RemoteWriteStats returns each --metrics-remote-write receiver's counts
// (none without the flag).
func (s *Service) RemoteWriteStats() []RemoteWriteOutStats { return s.remote.stats() }

// stop ends the senders; what they have not sent stays queued on disk.
func (rw *remoteWriters) stop() {
	if rw.cancel != nil {
		rw.cancel()
	}
	rw.wg.Wait()
	rw.report()
	rw.close()
}

func (rw *remoteWriters) close() {
	for _, o := range rw.outs {
		o.queue.Close()
	}
}
