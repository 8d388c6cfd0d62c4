package remotewrite

import (
	"github.com/gaffer-sre/gaffer/telemetry/prom"
	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

// Sink takes the samples a store has just committed. Forward must not
// keep series (their labels may point into a request's buffer) past its
// return.
type Sink interface {
	Forward(series []prom.TimeSeries)
}

// Queues is a Sink that appends to every queue, one per receiver.
type Queues struct {
	Queues []*Queue
	// OnError is told of a batch a queue could not take (its disk is
	// full): the samples are stored locally but will not be forwarded.
	OnError func(q *Queue, samples int, err error)
}

// Forward implements Sink.
func (qs Queues) Forward(series []prom.TimeSeries) {
	for _, q := range qs.Queues {
		if err := q.Append(series); err != nil && qs.OnError != nil {
			qs.OnError(q, countSamples(series), err)
		}
	}
}

// Tee is a prom.Appendable that hands every sample its Storage accepts to
// Sink once the batch is committed, before the commit returns — so before
// the sender of the samples is acknowledged. Refused samples (out of
// order, too old) and rolled-back batches are not forwarded.
type Tee struct {
	Storage prom.Appendable
	Sink    Sink
}

// Appender implements prom.Appendable.
func (t Tee) Appender() prom.Appender {
	return &teeAppender{inner: t.Storage.Appender(), sink: t.Sink}
}

type teeAppender struct {
	inner   prom.Appender
	sink    Sink
	series  []prom.TimeSeries
	lastRef tsdb.SeriesRef
}

func (a *teeAppender) Append(ref tsdb.SeriesRef, ls tsdb.Labels, t int64, v float64) (tsdb.SeriesRef, error) {
	r, err := a.inner.Append(ref, ls, t, v)
	if err != nil {
		return r, err
	}
	if n := len(a.series); n > 0 && r != 0 && r == a.lastRef {
		a.series[n-1].Samples = append(a.series[n-1].Samples, prom.Sample{Value: v, Timestamp: t})
	} else {
		a.series = append(a.series, prom.TimeSeries{Labels: ls.Copy(), Samples: []prom.Sample{{Value: v, Timestamp: t}}})
	}
	a.lastRef = r
	return r, nil
}

func (a *teeAppender) Commit() error {
	if err := a.inner.Commit(); err != nil {
		return err
	}
	if len(a.series) > 0 {
		a.sink.Forward(a.series)
	}
	a.series = nil
	return nil
}

func (a *teeAppender) Rollback() {
	a.inner.Rollback()
	a.series = nil
}

// NewSeries reports the series the inner batch created, when the inner
// Appender counts them (prom.StoreLimited asks).
func (a *teeAppender) NewSeries() int {
	if c, ok := a.inner.(interface{ NewSeries() int }); ok {
		return c.NewSeries()
	}
	return 0
}
