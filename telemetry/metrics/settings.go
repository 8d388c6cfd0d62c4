package metrics

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/spf13/pflag"

	"github.com/gaffer-sre/gaffer/telemetry/ingest"
	"github.com/gaffer-sre/gaffer/telemetry/prom"
	"github.com/gaffer-sre/gaffer/telemetry/remotewrite"
	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

// Settings are the metrics system's flags of `gaffer serve`.
type Settings struct {
	// Path is the store's directory; default <data-dir>/tsdb.
	Path               string
	Retention          time.Duration
	MaxBytes           int64
	WALSync            string
	OutOfOrderWindow   time.Duration
	MaxSeries          int
	MaxSeriesPerMetric int

	QueryTimeout    time.Duration
	QueryMaxSamples int
	LookbackDelta   time.Duration
	// QueryLimits bound concurrency and subqueries (see prom.Limits).
	QueryLimits prom.Limits
	// WriteLimits bound remote write (see prom.WriteLimits).
	WriteLimits prom.WriteLimits

	PublishMaxAge time.Duration

	SpectatordUDP        string
	SpectatordUnix       string
	SpectatordUnixMode   os.FileMode
	SpectatordStep       time.Duration
	SpectatordCommonTags string
	SpectatordMeterTTL   time.Duration

	// RemoteWrite forwards every accepted sample (remotewrite_settings.go).
	RemoteWrite RemoteWriteSettings
	// Query reads from a remote query API (remotequery.go).
	Query QuerySettings
}

// DefaultSettings returns the defaults of the flags.
func DefaultSettings() *Settings {
	d := tsdb.DefaultOptions()
	return &Settings{
		Retention:          d.Retention,
		WALSync:            d.WALSync.String(),
		OutOfOrderWindow:   d.OutOfOrderWindow,
		MaxSeries:          d.MaxSeries,
		MaxSeriesPerMetric: d.MaxSeriesPerMetric,
		QueryTimeout:       2 * time.Minute,
		QueryMaxSamples:    DefaultQueryMaxSamples,
		QueryLimits:        prom.DefaultLimits(),
		WriteLimits:        prom.DefaultWriteLimits(),
		LookbackDelta:      5 * time.Minute,
		PublishMaxAge:      time.Minute,
		SpectatordStep:     time.Minute,
		SpectatordUnixMode: ingest.DefaultUnixMode,
		SpectatordMeterTTL: 15 * time.Minute,
		RemoteWrite:        RemoteWriteSettings{MaxBytes: DefaultRemoteWriteMaxBytes, Options: remotewrite.DefaultOptions()},
		Query:              QuerySettings{Mode: QueryModeRemote, Timeout: 2 * time.Minute},
	}
}

// DefaultQueryMaxSamples is --metrics-query-max-samples's default: a
// query stopped at it has held about 350 MB (Prometheus's 50,000,000 took
// a server past 6 GB).
const DefaultQueryMaxSamples = 5_000_000

// flags registers the settings on fs and returns them.
func flags(fs *pflag.FlagSet) any {
	s := DefaultSettings()
	fs.StringVar(&s.Path, "tsdb-path", "", "directory of the time-series store (default <data-dir>/tsdb)")
	fs.Var(durationValue{&s.Retention}, "tsdb-retention", "how long raw samples are kept, e.g. 15d; 0 keeps them forever (rollups keep 60d at 1m and 400d at 1h)")
	fs.Var(bytesValue{&s.MaxBytes}, "tsdb-max-bytes", "bound on blocks plus WAL, e.g. 50GB; oldest blocks go first; 0 means no bound")
	fs.StringVar(&s.WALSync, "tsdb-wal-sync", s.WALSync, "WAL fsync policy: write (survives a process crash), interval (also power loss, but the last second), always")
	fs.Var(durationValue{&s.OutOfOrderWindow}, "tsdb-out-of-order-window", "how far behind a series' newest sample a sample may arrive; 0 refuses all out-of-order samples")
	fs.IntVar(&s.MaxSeries, "tsdb-max-series", s.MaxSeries, "most active series in the store; new series over it are refused (0: no limit)")
	fs.IntVar(&s.MaxSeriesPerMetric, "tsdb-max-series-per-metric", s.MaxSeriesPerMetric, "most active series of one metric name (0: no limit)")
	fs.Var(durationValue{&s.QueryTimeout}, "metrics-query-timeout", "longest a PromQL query may run")
	fs.IntVar(&s.QueryMaxSamples, "metrics-query-max-samples", s.QueryMaxSamples, "most samples a PromQL query may hold in memory at once (about 70 bytes each at the limit)")
	fs.IntVar(&s.QueryLimits.MaxConcurrent, "metrics-query-max-concurrency", s.QueryLimits.MaxConcurrent, "most PromQL queries evaluated at once; more wait for a slot")
	fs.Var(durationValue{&s.QueryLimits.QueueTimeout}, "metrics-query-queue-timeout", "longest a PromQL query waits for a slot before it fails")
	fs.Int64Var(&s.QueryLimits.MaxSubquerySteps, "metrics-query-max-subquery-steps", s.QueryLimits.MaxSubquerySteps, "most steps one PromQL subquery may evaluate (its window over its step)")
	fs.IntVar(&s.WriteLimits.MaxRequestBytes, "metrics-write-max-request-bytes", s.WriteLimits.MaxRequestBytes, "most bytes one remote-write request may decode to")
	fs.Int64Var(&s.WriteLimits.MaxInFlightBytes, "metrics-write-max-inflight-bytes", s.WriteLimits.MaxInFlightBytes, "most bytes the remote-write requests being handled may hold at once; more are refused with 503 and Retry-After")
	fs.IntVar(&s.WriteLimits.MaxNewSeriesPerRequest, "metrics-write-max-new-series-per-request", s.WriteLimits.MaxNewSeriesPerRequest, "most series one remote-write request may create")
	fs.IntVar(&s.WriteLimits.MaxNewSeriesPerToken, "metrics-write-max-new-series-per-token", s.WriteLimits.MaxNewSeriesPerToken, "most series one token may create by remote write in an hour")
	fs.Var(durationValue{&s.LookbackDelta}, "metrics-lookback-delta", "how far back PromQL looks for the latest sample of an instant vector")
	fs.Var(durationValue{&s.PublishMaxAge}, "metrics-publish-max-age", "Atlas publish refuses datapoints further than this from now, either way (Atlas: one step)")
	fs.StringVar(&s.SpectatordUDP, "spectatord-udp", "", "UDP address for the spectatord line protocol, e.g. 127.0.0.1:1234; unauthenticated: whoever reaches it may send metrics (empty, the default: off)")
	fs.StringVar(&s.SpectatordUnix, "spectatord-unix", "", "unix datagram socket for the spectatord line protocol, e.g. /run/spectatord/spectatord.unix (empty: off)")
	fs.Var(modeValue{&s.SpectatordUnixMode}, "spectatord-unix-mode", "permission bits of the spectatord unix socket, in octal: who may send metrics to it, unauthenticated")
	fs.Var(durationValue{&s.SpectatordStep}, "spectatord-step", "interval at which spectatord meters are aggregated and stored")
	fs.StringVar(&s.SpectatordCommonTags, "spectatord-common-tags", "", "tags added to every spectatord meter, e.g. nf.app=api,nf.region=us-east-1")
	fs.Var(durationValue{&s.SpectatordMeterTTL}, "spectatord-meter-ttl", "spectatord meters idle this long are dropped")
	remoteWriteFlags(fs, &s.RemoteWrite)
	queryFlags(fs, &s.Query)
	return s
}

// options turns the settings into the store's options.
func (s *Settings) options() (tsdb.Options, error) {
	o := tsdb.DefaultOptions()
	o.Retention = s.Retention
	o.MaxBytes = s.MaxBytes
	o.OutOfOrderWindow = s.OutOfOrderWindow
	o.MaxSeries = s.MaxSeries
	o.MaxSeriesPerMetric = s.MaxSeriesPerMetric
	p, err := tsdb.ParseSyncPolicy(s.WALSync)
	if err != nil {
		return o, fmt.Errorf("tsdb-wal-sync: %w", err)
	}
	o.WALSync = p
	if s.QueryTimeout <= 0 {
		return o, fmt.Errorf("metrics-query-timeout: must be positive, got %v", s.QueryTimeout)
	}
	if s.QueryMaxSamples <= 0 {
		return o, fmt.Errorf("metrics-query-max-samples: must be positive, got %d", s.QueryMaxSamples)
	}
	if err := s.QueryLimits.Validate(); err != nil {
		return o, err
	}
	if err := s.WriteLimits.Validate(); err != nil {
		return o, err
	}
	if s.LookbackDelta <= 0 {
		return o, fmt.Errorf("metrics-lookback-delta: must be positive, got %v", s.LookbackDelta)
	}
	if s.SpectatordStep < time.Second {
		return o, fmt.Errorf("spectatord-step: must be at least 1s, got %v", s.SpectatordStep)
	}
	return o, nil
}

// commonTags parses --spectatord-common-tags.
func (s *Settings) commonTags() (map[string]string, error) {
	out := map[string]string{}
	for _, kv := range strings.Split(s.SpectatordCommonTags, ",") {
		if kv = strings.TrimSpace(kv); kv == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" || v == "" {
			return nil, fmt.Errorf("spectatord-common-tags: %q is not key=value", kv)
		}
		out[k] = v
	}
	return out, nil
}

// durationValue is a flag holding a Prometheus-style duration (15d, 1h30m).
type durationValue struct{ d *time.Duration }

func (v durationValue) String() string {
	if v.d == nil {
		return ""
	}
	return model.Duration(*v.d).String()
}

func (v durationValue) Set(s string) error {
	d, err := model.ParseDuration(s)
	if err != nil {
		std, err2 := time.ParseDuration(s)
		if err2 != nil {
			return fmt.Errorf("want a duration such as 90s, 15m, 12h or 30d: %w", err)
		}
		*v.d = std
		return nil
	}
	*v.d = time.Duration(d)
	return nil
}

func (v durationValue) Type() string { return "duration" }

// bytesValue is a flag holding a size such as 512MB or 2GiB.
type bytesValue struct{ n *int64 }

var byteUnits = []struct {
	suffix string
	mult   int64
}{{"KIB", 1 << 10}, {"MIB", 1 << 20}, {"GIB", 1 << 30}, {"TIB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1}}

func (v bytesValue) String() string {
	if v.n == nil {
		return "0"
	}
	return strconv.FormatInt(*v.n, 10)
}

func (v bytesValue) Set(s string) error {
	u := strings.ToUpper(strings.TrimSpace(s))
	mult := int64(1)
	for _, unit := range byteUnits {
		if strings.HasSuffix(u, unit.suffix) {
			u, mult = strings.TrimSpace(strings.TrimSuffix(u, unit.suffix)), unit.mult
			break
		}
	}
	f, err := strconv.ParseFloat(u, 64)
	if err != nil || f < 0 {
		return fmt.Errorf("want a size such as 512MB or 2GiB, got %q", s)
	}
	*v.n = int64(f * float64(mult))
	return nil
}

func (v bytesValue) Type() string { return "bytes" }

// modeValue is a flag holding file permission bits in octal (0660).
type modeValue struct{ m *os.FileMode }

func (v modeValue) String() string {
	if v.m == nil {
		return ""
	}
	return fmt.Sprintf("%#o", uint32(*v.m))
}

func (v modeValue) Set(s string) error {
	m, err := parseMode(s)
	if err != nil {
		return err
	}
	*v.m = m
	return nil
}

func (v modeValue) Type() string { return "mode" }

// parseMode reads permission bits written in octal, with or without a
// leading 0 or 0o: "0660", "660", "0o600".
func parseMode(s string) (os.FileMode, error) {
	digits := strings.TrimPrefix(strings.TrimPrefix(s, "0o"), "0O")
	n, err := strconv.ParseUint(digits, 8, 32)
	if err != nil || digits == "" || digits[0] == '+' || digits[0] == '-' {
		return 0, fmt.Errorf("%q: want octal permission bits such as 0660", s)
	}
	if n > 0o777 {
		return 0, fmt.Errorf("%q: more than the permission bits (at most 0777)", s)
	}
	return os.FileMode(n), nil
}
