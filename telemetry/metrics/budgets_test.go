package metrics

import (
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// TestBudgetFlags: the query and remote-write limits of issue #15 are
// flags with the documented defaults, and a limit that cannot work is
// refused naming its flag.
func TestBudgetFlags(t *testing.T) {
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	s := flags(fs).(*Settings)
	if _, err := s.options(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	if s.QueryMaxSamples != 5_000_000 || s.QueryLimits.MaxConcurrent != 4 || s.QueryLimits.MaxSubquerySteps != 1_000_000 ||
		s.WriteLimits.MaxRequestBytes != 32<<20 || s.WriteLimits.MaxInFlightBytes != 256<<20 ||
		s.WriteLimits.MaxNewSeriesPerRequest != 10_000 || s.WriteLimits.MaxNewSeriesPerToken != 1_000_000 {
		t.Fatalf("defaults %+v", s)
	}
	if err := fs.Parse([]string{"--metrics-query-max-concurrency=2", "--metrics-query-queue-timeout=5s",
		"--metrics-query-max-subquery-steps=500", "--metrics-write-max-new-series-per-token=7"}); err != nil {
		t.Fatal(err)
	}
	if s.QueryLimits.MaxConcurrent != 2 || s.QueryLimits.QueueTimeout.Seconds() != 5 || s.QueryLimits.MaxSubquerySteps != 500 ||
		s.WriteLimits.MaxNewSeriesPerToken != 7 {
		t.Fatalf("parsed %+v %+v", s.QueryLimits, s.WriteLimits)
	}
	for flag, want := range map[string]string{
		"--metrics-query-max-concurrency=0":            "metrics-query-max-concurrency: must be positive",
		"--metrics-query-max-samples=0":                "metrics-query-max-samples: must be positive",
		"--metrics-write-max-inflight-bytes=1000":      "metrics-write-max-inflight-bytes: must hold one request",
		"--metrics-write-max-new-series-per-request=0": "metrics-write-max-new-series-per-request: must be positive",
	} {
		fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
		s := flags(fs).(*Settings)
		if err := fs.Parse([]string{flag}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.options(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", flag, err, want)
		}
	}
}
