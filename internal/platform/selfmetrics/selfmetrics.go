// Package selfmetrics is how Gaffer measures itself: systems record with a
// Spectator registry (telemetry/spectator), whose lines go straight into an
// in-process spectatord aggregator (telemetry/ingest) instead of a socket.
// Every step the server takes the step's measurements, stores them in its
// own time-series store (when the metrics system runs) and keeps them for
// GET /metrics, which serves them in Prometheus's text exposition format.
package selfmetrics

import (
	"bufio"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gaffer-sre/gaffer/telemetry/ingest"
	"github.com/gaffer-sre/gaffer/telemetry/prom"
	"github.com/gaffer-sre/gaffer/telemetry/spectator"
)

// Step is how often measurements are taken.
const Step = 10 * time.Second

// Recorder owns the registry systems record with and the aggregation
// behind it.
type Recorder struct {
	// Registry hands out meters.
	Registry *spectator.Registry

	agg *ingest.Registry

	mu   sync.Mutex
	last []prom.TimeSeries
}

// New returns a recorder whose meters carry the common tags.
func New(common map[string]string) *Recorder {
	agg := &ingest.Registry{}
	r := &Recorder{agg: agg}
	r.Registry = spectator.NewRegistry(lineWriter{agg: agg}, common)
	return r
}

// lineWriter hands each protocol line to the aggregator in-process.
type lineWriter struct{ agg *ingest.Registry }

func (w lineWriter) WriteLine(line []byte) { w.agg.HandleDatagram(line, time.Now()) }
func (w lineWriter) Close() error          { return nil }

// Measure closes the step that ends at now and returns its measurements,
// which it also keeps for the exposition format.
func (r *Recorder) Measure(now time.Time) []prom.TimeSeries {
	series := r.agg.Measure(now, Step)
	r.mu.Lock()
	r.last = series
	r.mu.Unlock()
	return series
}

// WriteExposition writes the last step's measurements in Prometheus's
// text format. Spectator's names use dots; they become underscores, and
// Spectator's "statistic" tag stays a label, as Atlas users expect.
func (r *Recorder) WriteExposition(w io.Writer) error {
	r.mu.Lock()
	series := r.last
	r.mu.Unlock()
	byName := map[string][]string{}
	for _, ts := range series {
		if len(ts.Samples) == 0 {
			continue
		}
		var name string
		var labels []string
		for _, l := range ts.Labels {
			if l.Name == "__name__" {
				name = promName(l.Value)
				continue
			}
			labels = append(labels, promName(l.Name)+`="`+escapeLabel(l.Value)+`"`)
		}
		if name == "" {
			continue
		}
		s := ts.Samples[len(ts.Samples)-1]
		text := name
		if len(labels) > 0 {
			text += "{" + strings.Join(labels, ",") + "}"
		}
		text += " " + formatValue(s.Value) + " " + strconv.FormatInt(s.Timestamp, 10)
		byName[name] = append(byName[name], text)
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	bw := bufio.NewWriter(w)
	for _, n := range names {
		bw.WriteString("# TYPE " + n + " gauge\n")
		lines := byName[n]
		sort.Strings(lines)
		for _, l := range lines {
			bw.WriteString(l + "\n")
		}
	}
	return bw.Flush()
}

func promName(s string) string {
	var b strings.Builder
	for i, c := range s {
		ok := c == '_' || c == ':' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9'
		if ok {
			b.WriteRune(c)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

func escapeLabel(s string) string {
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`).Replace(s)
}

func formatValue(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
