package prom

import (
	"errors"
	"fmt"
	"time"

	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

// Appender is a batch of samples for the store; *tsdb.Appender is one.
type Appender interface {
	Append(ref tsdb.SeriesRef, ls tsdb.Labels, t int64, v float64) (tsdb.SeriesRef, error)
	Commit() error
	Rollback()
}

// Appendable hands out appenders: DBAppendable for a *tsdb.DB, or a test
// double that fails as a full disk would.
type Appendable interface {
	Appender() Appender
}

// DBAppendable makes a *tsdb.DB an Appendable.
type DBAppendable struct{ DB *tsdb.DB }

// Appender implements Appendable.
func (d DBAppendable) Appender() Appender { return d.DB.Appender() }

// StoreResult tells what Store did with a batch.
type StoreResult struct {
	// Stored counts samples written (including exact repeats, which the
	// store accepts and ignores).
	Stored int
	// Refused counts samples refused one by one: out of order, duplicate
	// timestamp with another value, too old or too new.
	Refused int
	// FirstRefused describes the first refused sample, for the error.
	FirstRefused string
	// ByReason counts refused samples by reason.
	ByReason map[string]int
	// NewSeries counts the series the batch created, when the Appender
	// reports it (a *tsdb.Appender does).
	NewSeries int
}

// seriesCounter is an Appender that reports how many series its batch
// created.
type seriesCounter interface{ NewSeries() int }

// NewSeriesError is a batch refused, and not stored, because it would
// create more series than it may.
type NewSeriesError struct {
	// Max is the most it may create; Limit names the flag that sets it.
	Max   int
	Limit string
	// Window, for a limit over time, says what it is and when it resets.
	Window string
}

// copy returns a copy of e to return: taking e's own address would move
// it, a parameter, to the heap on every call.
func (e NewSeriesError) copy() *NewSeriesError { return &e }

// Error implements error.
func (e *NewSeriesError) Error() string {
	s := fmt.Sprintf("the request creates more than %d new series (limit: --%s", e.Max, e.Limit)
	if e.Window != "" {
		s += ", " + e.Window
	}
	return s + ")"
}

// Err is a summary error when samples were refused, else nil.
func (r StoreResult) Err() error {
	if r.Refused == 0 {
		return nil
	}
	return fmt.Errorf("stored %d of %d samples; refused %d (%s); first: %s",
		r.Stored, r.Stored+r.Refused, r.Refused, reasonList(r.ByReason), r.FirstRefused)
}

func reasonList(m map[string]int) string {
	out := ""
	for _, k := range []string{"out of order", "duplicate timestamp", "too old", "too new"} {
		if n := m[k]; n > 0 {
			if out != "" {
				out += ", "
			}
			out += fmt.Sprintf("%d %s", n, k)
		}
	}
	return out
}

// refusal names the per-sample reasons a batch goes on after; other
// errors abort the batch.
func refusal(err error) string {
	switch {
	case errors.Is(err, tsdb.ErrOutOfOrder):
		return "out of order"
	case errors.Is(err, tsdb.ErrDuplicateSample):
		return "duplicate timestamp"
	case errors.Is(err, tsdb.ErrTooOld):
		return "too old"
	case errors.Is(err, tsdb.ErrTooNew):
		return "too new"
	}
	return ""
}

// Store writes series to s as one batch. A sample that is out of order, a
// duplicate timestamp with another value, too old or too new is refused
// alone and counted; the rest of the batch is stored. Any other error —
// an invalid series (*tsdb.ValidationError), a cardinality limit
// (*tsdb.LimitError), a full disk (tsdb.ErrStorageFull) — stores nothing
// of the batch and is returned.
func Store(s Appendable, series []TimeSeries) (StoreResult, error) {
	return StoreLimited(s, series, NewSeriesError{})
}

// StoreLimited is Store for a batch that may create at most limit.Max new
// series when limit.Limit is set and the Appender reports what it created;
// over that it stores nothing and returns a copy of limit, having created
// at most one series more than allowed (and dropped them).
func StoreLimited(s Appendable, series []TimeSeries, limit NewSeriesError) (StoreResult, error) {
	res, err := storeOnce(s, series, limit)
	if errors.Is(err, tsdb.ErrTooOld) {
		// The head was cut past part of the batch between Append and
		// Commit; appending again refuses those samples one by one.
		res, err = storeOnce(s, series, limit)
	}
	return res, err
}

func storeOnce(s Appendable, series []TimeSeries, limit NewSeriesError) (StoreResult, error) {
	var res StoreResult
	app := s.Appender()
	counter, _ := app.(seriesCounter)
	limited := counter != nil && limit.Limit != ""
	for i := range series {
		if limited && counter.NewSeries() > limit.Max {
			app.Rollback()
			return StoreResult{}, limit.copy()
		}
		ts := &series[i]
		var ref tsdb.SeriesRef
		for _, smp := range ts.Samples {
			r, err := app.Append(ref, ts.Labels, smp.Timestamp, smp.Value)
			if err == nil {
				ref = r
				res.Stored++
				continue
			}
			reason := refusal(err)
			if reason == "" {
				app.Rollback()
				return StoreResult{}, err
			}
			if res.ByReason == nil {
				res.ByReason = map[string]int{}
			}
			res.ByReason[reason]++
			if res.Refused == 0 {
				res.FirstRefused = fmt.Sprintf("%s at %s: %v", ts.Labels, time.UnixMilli(smp.Timestamp).UTC().Format(time.RFC3339Nano), err)
			}
			res.Refused++
		}
	}
	if counter != nil {
		if res.NewSeries = counter.NewSeries(); limited && res.NewSeries > limit.Max {
			app.Rollback()
			return StoreResult{}, limit.copy()
		}
	}
	if err := app.Commit(); err != nil {
		return StoreResult{}, err
	}
	return res, nil
}

// Refused reports whether err refuses one sample only (out of order,
// duplicate, too old, too new) rather than the batch.
func Refused(err error) bool { return refusal(err) != "" }
