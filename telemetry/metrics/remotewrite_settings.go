package metrics

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"

	"github.com/gaffer-sre/gaffer/telemetry/remotewrite"
)

// RemoteWriteSettings are the --metrics-remote-write flags.
type RemoteWriteSettings struct {
	// URLs are the receivers' push URLs (--metrics-remote-write).
	URLs []string
	// ConfigFile is a YAML list of receivers with their headers and
	// bearer token files (--metrics-remote-write-config); see
	// parseRemoteWriteConfig.
	ConfigFile string
	// MaxBytes bounds each receiver's queue on disk.
	MaxBytes int64
	remotewrite.Options
}

// DefaultRemoteWriteMaxBytes is --metrics-remote-write-max-bytes's
// default: about two hours of a 10,000-sample/s stream (docs/metrics.md,
// "At scale", has the measurement).
const DefaultRemoteWriteMaxBytes = 1 << 30

// remoteWriteEntry is one receiver of the YAML file.
type remoteWriteEntry struct {
	URL             string            `yaml:"url"`
	Headers         map[string]string `yaml:"headers"`
	BearerTokenFile string            `yaml:"bearer_token_file"`
}

// parseRemoteWriteConfig reads the YAML of --metrics-remote-write-config:
//
//   - url: https://mimir.example/api/v1/push
//     headers: {X-Scope-OrgID: team-a}
//     bearer_token_file: /etc/gaffer/mimir-token
func parseRemoteWriteConfig(b []byte) ([]remotewrite.Endpoint, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var entries []remoteWriteEntry
	if err := dec.Decode(&entries); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("want a list of {url, headers, bearer_token_file}: %w", err)
	}
	var out []remotewrite.Endpoint
	for i, e := range entries {
		if err := checkRemoteWriteURL(e.URL); err != nil {
			return nil, fmt.Errorf("entry %d: url: %w", i+1, err)
		}
		for k, v := range e.Headers {
			if k == "" || strings.ContainsAny(k, " :\r\n") || strings.ContainsAny(v, "\r\n") {
				return nil, fmt.Errorf("entry %d: headers: %q is not a valid header name and value", i+1, k)
			}
			switch strings.ToLower(k) {
			case "content-type", "content-encoding", "x-prometheus-remote-write-version":
				return nil, fmt.Errorf("entry %d: headers: %s is set by remote write itself", i+1, k)
			case "authorization":
				if e.BearerTokenFile != "" {
					return nil, fmt.Errorf("entry %d: headers: Authorization and bearer_token_file both given", i+1)
				}
			}
		}
		out = append(out, remotewrite.Endpoint{URL: e.URL, Headers: e.Headers, BearerTokenFile: e.BearerTokenFile})
	}
	return out, nil
}

// checkRemoteWriteURL requires an absolute http(s) URL with a host.
func checkRemoteWriteURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q: want an http or https URL such as https://mimir.example/api/v1/push", s)
	}
	return nil
}

// endpoints returns the receivers: each --metrics-remote-write URL, with
// the headers and token file its entry in the config file gives, then the
// config file's other entries.
func (r *RemoteWriteSettings) endpoints() ([]remotewrite.Endpoint, error) {
	var file []remotewrite.Endpoint
	if r.ConfigFile != "" {
		b, err := os.ReadFile(r.ConfigFile)
		if err != nil {
			return nil, fmt.Errorf("metrics-remote-write-config: %w", err)
		}
		if file, err = parseRemoteWriteConfig(b); err != nil {
			return nil, fmt.Errorf("metrics-remote-write-config %s: %w", r.ConfigFile, err)
		}
	}
	var out []remotewrite.Endpoint
	seen := map[string]bool{}
	add := func(e remotewrite.Endpoint, flag string) error {
		if seen[e.URL] {
			return fmt.Errorf("%s: %s is given twice", flag, e.URL)
		}
		seen[e.URL] = true
		out = append(out, e)
		return nil
	}
	for _, u := range r.URLs {
		if err := checkRemoteWriteURL(u); err != nil {
			return nil, fmt.Errorf("metrics-remote-write: %w", err)
		}
		e := remotewrite.Endpoint{URL: u}
		for _, f := range file {
			if f.URL == u {
				e = f
			}
		}
		if err := add(e, "metrics-remote-write"); err != nil {
			return nil, err
		}
	}
	for _, f := range file {
		if !seen[f.URL] {
			if err := add(f, "metrics-remote-write-config"); err != nil {
				return nil, err
			}
		}
	}
	if len(out) > 0 {
		if err := r.Options.Validate(); err != nil {
			return nil, fmt.Errorf("metrics-remote-write: %w", err)
		}
		if r.MaxBytes < 1<<20 {
			return nil, fmt.Errorf("metrics-remote-write-max-bytes: want at least 1MiB, got %d bytes", r.MaxBytes)
		}
	}
	return out, nil
}

// remoteWriteFlags registers the --metrics-remote-write flags.
func remoteWriteFlags(fs *pflag.FlagSet, r *RemoteWriteSettings) {
	fs.StringSliceVar(&r.URLs, "metrics-remote-write", nil, "forward every sample the store accepts to this remote-write receiver's push URL, "+
		"e.g. https://mimir.example/api/v1/push (repeatable; through the egress policy, see --egress-allow)")
	fs.StringVar(&r.ConfigFile, "metrics-remote-write-config", "", "YAML file listing remote-write receivers with headers and a bearer token file: "+
		"- {url: URL, headers: {X-Scope-OrgID: team}, bearer_token_file: PATH}")
	fs.Var(bytesValue{&r.MaxBytes}, "metrics-remote-write-max-bytes", "bound on each receiver's queue on disk (<data-dir>/metrics-remote-write); "+
		"past it the oldest unsent samples are dropped and counted (gaffer_metrics_remote_write_dropped_samples_total)")
	fs.IntVar(&r.Shards, "metrics-remote-write-shards", r.Shards, "requests sent at once to each receiver (a series always goes through the same one)")
	fs.IntVar(&r.BatchSamples, "metrics-remote-write-batch-samples", r.BatchSamples, "most samples in one remote-write request")
	fs.Var(durationValue{&r.MinBackoff}, "metrics-remote-write-min-backoff", "first wait before resending after a 5xx, a 429 or a network error; doubled at each attempt")
	fs.Var(durationValue{&r.MaxBackoff}, "metrics-remote-write-max-backoff", "longest wait between two attempts")
}
