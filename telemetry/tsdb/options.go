package tsdb

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/gaffer-sre/gaffer/telemetry/tsdb/internal/wal"
)

// SyncPolicy says when the write-ahead log is fsynced.
type SyncPolicy int

const (
	// SyncOnWrite is the default: an append is acknowledged once its WAL
	// record has been written to the operating system (one write(2) per
	// commit). It survives a crash or SIGKILL of the process but not a power
	// failure or kernel crash in the following seconds.
	SyncOnWrite SyncPolicy = iota
	// SyncInterval also fsyncs the WAL every Options.SyncInterval, bounding
	// the loss on power failure to that interval.
	SyncInterval
	// SyncAlways fsyncs before every acknowledgement: nothing acknowledged is
	// lost even on power failure, at a large cost in throughput.
	SyncAlways
)

// String names the policy as the command line spells it.
func (p SyncPolicy) String() string {
	switch p {
	case SyncOnWrite:
		return "write"
	case SyncInterval:
		return "interval"
	case SyncAlways:
		return "always"
	}
	return fmt.Sprintf("SyncPolicy(%d)", int(p))
}

// ParseSyncPolicy parses "write", "interval" or "always".
func ParseSyncPolicy(s string) (SyncPolicy, error) {
	for _, p := range []SyncPolicy{SyncOnWrite, SyncInterval, SyncAlways} {
		if p.String() == s {
			return p, nil
		}
	}
	return 0, fmt.Errorf("unknown WAL sync policy %q (want write, interval or always)", s)
}

// RollupTier is one downsampled tier: sum, count, min, max and last of the
// raw samples in each window of Resolution, kept for Retention.
type RollupTier struct {
	Resolution time.Duration
	Retention  time.Duration
}

// Options configure a DB. Start from DefaultOptions.
type Options struct {
	// BlockDuration is the time span of a block cut from the head. Blocks
	// are aligned to multiples of it. Default 2h.
	BlockDuration time.Duration
	// Retention is how long raw samples are kept; 0 keeps them forever.
	// Default 15 days.
	Retention time.Duration
	// MaxBytes bounds the size of blocks plus WAL; the oldest blocks are
	// deleted first. 0 means no limit.
	MaxBytes int64
	// OutOfOrderWindow is how far behind a series' newest sample a sample
	// may arrive and still be accepted. 0 rejects every out-of-order sample.
	// Default 10 minutes.
	OutOfOrderWindow time.Duration
	// BackfillWindow is how far before the head (in time already
	// persisted in blocks) samples are still accepted: they are written as
	// new blocks at the next compaction and merged with the blocks there.
	// 0 refuses them all (ErrTooOld). Default 15 days.
	BackfillWindow time.Duration
	// FutureWindow is how far ahead of the wall clock a sample may be; later
	// ones get ErrTooNew, so one bad clock cannot push the head (and the
	// ranges it accepts) into the future. 0 disables the check. Default 1h.
	FutureWindow time.Duration
	// Rollups are the downsampled tiers, built when blocks are cut. Each
	// resolution must divide BlockDuration. Default 1m kept 60 days and 1h
	// kept 400 days.
	Rollups []RollupTier
	// MaxSeries bounds the active (in-memory) series; 0 means no limit.
	MaxSeries int
	// MaxSeriesPerMetric bounds the active series of one metric name; 0
	// means no limit.
	MaxSeriesPerMetric int
	// Validation is applied to every new series.
	Validation Validation
	// WALSync is the fsync policy; SyncInterval uses SyncInterval.
	WALSync      SyncPolicy
	SyncInterval time.Duration
	// WALSegmentSize is the size of WAL segment files. Default 128 MiB.
	WALSegmentSize int64
	// CompactInterval is how often the background loop cuts blocks,
	// compacts them and applies retention. Negative disables the loop
	// (call DB.Compact yourself). Default 1 minute.
	CompactInterval time.Duration
	// ReadOnly opens the store without writing to it, without taking its
	// lock, so a running server's store can be inspected.
	ReadOnly bool
	// Logger receives the store's log lines; slog.Default() if nil.
	Logger *slog.Logger
	// FailWrites, if set, is asked before the store writes to disk: while
	// it returns true, WAL writes and block writes fail as on a full disk
	// (ENOSPC), so Commit returns an error matching ErrStorageFull and
	// compaction keeps the head. It lets the layers above test their
	// answer to a full disk without filling one.
	FailWrites func() bool
	// Now is the clock FutureWindow is measured against; time.Now if nil.
	// Tests and replays of recorded data set it.
	Now func() time.Time

	walOpenFile func(name string) (wal.File, error) // test hook
}

// DefaultOptions returns the defaults described on each field.
func DefaultOptions() Options {
	return Options{
		BlockDuration:      2 * time.Hour,
		Retention:          15 * 24 * time.Hour,
		OutOfOrderWindow:   10 * time.Minute,
		BackfillWindow:     15 * 24 * time.Hour,
		FutureWindow:       time.Hour,
		Rollups:            []RollupTier{{time.Minute, 60 * 24 * time.Hour}, {time.Hour, 400 * 24 * time.Hour}},
		MaxSeriesPerMetric: 200_000,
		MaxSeries:          10_000_000,
		Validation:         DefaultValidation,
		WALSync:            SyncOnWrite,
		SyncInterval:       time.Second,
		WALSegmentSize:     wal.DefaultSegmentSize,
		CompactInterval:    time.Minute,
	}
}

// normalize fills zero fields that have no "off" meaning and checks the rest.
func (o *Options) normalize() error {
	d := DefaultOptions()
	if o.BlockDuration <= 0 {
		o.BlockDuration = d.BlockDuration
	}
	if o.BlockDuration%time.Millisecond != 0 {
		return fmt.Errorf("block duration %v is not a whole number of milliseconds", o.BlockDuration)
	}
	if o.WALSegmentSize <= 0 {
		o.WALSegmentSize = d.WALSegmentSize
	}
	if o.SyncInterval <= 0 {
		o.SyncInterval = d.SyncInterval
	}
	if o.CompactInterval == 0 {
		o.CompactInterval = d.CompactInterval
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	for i, r := range o.Rollups {
		if r.Resolution < time.Millisecond || o.BlockDuration%r.Resolution != 0 {
			return fmt.Errorf("rollup tier %d: resolution %v must divide the block duration %v", i, r.Resolution, o.BlockDuration)
		}
		if i > 0 && r.Resolution <= o.Rollups[i-1].Resolution {
			return fmt.Errorf("rollup tier %d: resolutions must increase (%v after %v)", i, r.Resolution, o.Rollups[i-1].Resolution)
		}
	}
	return nil
}
