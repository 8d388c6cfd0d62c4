package tsdb

import (
	"errors"
	"fmt"
	"syscall"
)

// Sentinel errors. Typed errors below match them with errors.Is, so an HTTP
// layer can map: ErrInvalidSeries, ErrCardinalityLimit, ErrOutOfOrder,
// ErrTooOld, ErrTooNew and ErrDuplicateSample to 4xx; ErrStorageFull to 503.
var (
	// ErrInvalidSeries: the labels break the validation rules (*ValidationError).
	ErrInvalidSeries = errors.New("invalid series")
	// ErrCardinalityLimit: a new series would exceed a limit (*LimitError).
	ErrCardinalityLimit = errors.New("series limit exceeded")
	// ErrOutOfOrder: the sample is older than the series' newest sample by
	// more than the out-of-order window.
	ErrOutOfOrder = errors.New("out-of-order sample")
	// ErrTooOld: the sample falls before the head, in time already persisted.
	ErrTooOld = errors.New("sample too old")
	// ErrTooNew: the sample is further in the future than Options.FutureWindow.
	ErrTooNew = errors.New("sample too far in the future")
	// ErrDuplicateSample: a different value for a timestamp already stored.
	ErrDuplicateSample = errors.New("duplicate sample for timestamp")
	// ErrStorageFull: the disk is full; nothing was written. Retry later.
	ErrStorageFull = errors.New("storage full")
	// ErrReadOnly: the database was opened read-only.
	ErrReadOnly = errors.New("database is read-only")
	// ErrClosed: the database is closed.
	ErrClosed = errors.New("database is closed")
	// ErrCorruptBlock: a persisted block failed its checksum or did not parse.
	ErrCorruptBlock = errors.New("corrupt block")
)

// ValidationError names the series and tag that broke a validation rule.
type ValidationError struct {
	Metric string // metric name, "" if missing
	Tag    string // offending tag key, "" for series-wide problems
	Reason string
}

// Error implements error.
func (e *ValidationError) Error() string {
	if e.Tag == "" {
		return fmt.Sprintf("invalid series %q: %s", e.Metric, e.Reason)
	}
	return fmt.Sprintf("invalid series %q: tag %q: %s", e.Metric, e.Tag, e.Reason)
}

// Is makes errors.Is(err, ErrInvalidSeries) true.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalidSeries }

// LimitError reports a new series refused by a cardinality limit. Existing
// series keep accepting samples.
type LimitError struct {
	Metric string // metric of the refused series
	Limit  int
	// PerMetric is true for the per-metric limit, false for the total.
	PerMetric bool
}

// Error implements error.
func (e *LimitError) Error() string {
	if e.PerMetric {
		return fmt.Sprintf("metric %q has reached its limit of %d series", e.Metric, e.Limit)
	}
	return fmt.Sprintf("new series of metric %q refused: the store has reached its limit of %d series", e.Metric, e.Limit)
}

// Is makes errors.Is(err, ErrCardinalityLimit) true.
func (e *LimitError) Is(target error) bool { return target == ErrCardinalityLimit }

// storageErr marks errors caused by a full disk so that errors.Is(err,
// ErrStorageFull) holds, keeping the cause.
func storageErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return &fullError{err}
	}
	return err
}

type fullError struct{ err error }

func (e *fullError) Error() string        { return "storage full: " + e.err.Error() }
func (e *fullError) Unwrap() error        { return e.err }
func (e *fullError) Is(target error) bool { return target == ErrStorageFull }
