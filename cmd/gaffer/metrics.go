package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gaffer-sre/gaffer/internal/platform/cli"
	"github.com/gaffer-sre/gaffer/telemetry/ingest"
	"github.com/gaffer-sre/gaffer/telemetry/prom"
)

func init() { registerCommand(newMetricsCommand) }

// newMetricsCommand is `gaffer metrics`: PromQL queries and file imports
// against a server's metrics system.
func newMetricsCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "metrics", Short: "Query metrics with PromQL and import OpenMetrics or CSV files (see docs/metrics.md)"}
	flags := cli.AddClientFlags(cmd)
	cmd.AddCommand(metricsQueryCommand(flags), metricsImportCommand(flags))
	return cmd
}

func promClient(flags *cli.ClientFlags) (*prom.Client, error) {
	c, err := flags.Client()
	if err != nil {
		return nil, err
	}
	return &prom.Client{URL: c.Server, Token: c.Token, HTTP: c.HTTP}, nil
}

// parseCLITime reads "now", a duration back from now ("-1h" or "1h"),
// unix seconds or RFC 3339.
func parseCLITime(s string, now time.Time) (time.Time, error) {
	if s == "" || s == "now" {
		return now, nil
	}
	if d, err := prom.ParseDuration(strings.TrimPrefix(s, "-")); err == nil && !isNumber(s) {
		return now.Add(-d), nil
	}
	t, err := prom.ParseTime(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q: want now, a duration back from now (1h), unix seconds or RFC 3339", s)
	}
	return t, nil
}

func isNumber(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

func metricsQueryCommand(flags *cli.ClientFlags) *cobra.Command {
	var start, end, at string
	var step time.Duration
	cmd := &cobra.Command{
		Use:   "query PROMQL",
		Short: "Evaluate a PromQL expression: at one time, or over --start..--end every --step",
		Example: `  gaffer metrics query 'sum by (job) (rate(http_requests_total[5m]))'
  gaffer metrics query 'up' --start 3h --step 5m --output json`,
		Args: cobra.ExactArgs(1),
	}
	out := cli.AddOutputFlag(cmd)
	cmd.Flags().StringVar(&start, "start", "", "start of a range query: now, a duration back (3h), unix seconds or RFC 3339")
	cmd.Flags().StringVar(&end, "end", "now", "end of a range query")
	cmd.Flags().DurationVar(&step, "step", 0, "range query resolution (default: the range / 250, at least 1s)")
	cmd.Flags().StringVar(&at, "time", "now", "evaluation time of an instant query")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if err := out.Validate(); err != nil {
			return err
		}
		c, err := promClient(flags)
		if err != nil {
			return err
		}
		now := time.Now()
		var res prom.Result
		if start != "" {
			s, err := parseCLITime(start, now)
			if err != nil {
				return fmt.Errorf("--start %w", err)
			}
			e, err := parseCLITime(end, now)
			if err != nil {
				return fmt.Errorf("--end %w", err)
			}
			if step <= 0 {
				step = max(e.Sub(s)/250, time.Second).Round(time.Second)
			}
			res, err = c.QueryRange(cmd.Context(), args[0], s, e, step)
			if err != nil {
				return err
			}
		} else {
			t, err := parseCLITime(at, now)
			if err != nil {
				return fmt.Errorf("--time %w", err)
			}
			if res, err = c.Query(cmd.Context(), args[0], t); err != nil {
				return err
			}
		}
		for _, w := range res.Warnings {
			fmt.Fprintln(cmd.ErrOrStderr(), "warning:", w)
		}
		return out.Print(cmd.OutOrStdout(), resultJSON(res), func(t *cli.Table) {
			if res.Type == "string" {
				t.Row(res.String)
				return
			}
			t.Row("SERIES", "TIME", "VALUE")
			for _, s := range res.Series {
				for _, p := range s.Points {
					t.Row(s.Labels.String(), time.UnixMilli(p.T).UTC().Format(time.RFC3339Nano), string(prom.AppendFloat(nil, p.V)))
				}
			}
		})
	}
	return cmd
}

// resultJSON is the data of Prometheus's answer: resultType and result.
func resultJSON(res prom.Result) map[string]any {
	if res.Type == "string" {
		return map[string]any{"resultType": res.Type, "result": res.String}
	}
	var series []map[string]any
	for _, s := range res.Series {
		m := map[string]string{}
		for _, l := range s.Labels {
			m[l.Name] = l.Value
		}
		var pts [][2]any
		for _, p := range s.Points {
			pts = append(pts, [2]any{float64(p.T) / 1000, string(prom.AppendFloat(nil, p.V))})
		}
		entry := map[string]any{"metric": m}
		switch res.Type {
		case "matrix":
			entry["values"] = pts
		case "scalar":
			return map[string]any{"resultType": res.Type, "result": pts[0]}
		default:
			entry["value"] = pts[0]
		}
		series = append(series, entry)
	}
	if series == nil {
		series = []map[string]any{}
	}
	return map[string]any{"resultType": res.Type, "result": series}
}

func metricsImportCommand(flags *cli.ClientFlags) *cobra.Command {
	var format string
	var batch int
	cmd := &cobra.Command{
		Use:   "import FILE...",
		Short: "Import samples from OpenMetrics / Prometheus text or CSV files over remote write",
		Long: `Import samples from files into the metrics store, over remote write, with a
progress bar on standard error.

OpenMetrics and Prometheus text: "name{label="value"} value [timestamp]" lines;
a timestamp with a fraction or below 10^11 is seconds, otherwise milliseconds;
lines without one get the import time. CSV: a header line naming the columns
timestamp, value and metric; every other column is a label.

The store refuses samples older than what it has already persisted (see
docs/tsdb.md); such samples are counted and reported, the rest imported.`,
		Example: `  gaffer metrics import scrape.prom
  gaffer metrics import --format csv export.csv`,
		Args: cobra.MinimumNArgs(1),
	}
	cmd.Flags().StringVar(&format, "format", "", "openmetrics or csv (default: by extension, .csv is csv)")
	cmd.Flags().IntVar(&batch, "batch", 10000, "samples per remote-write request")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if format != "" && format != "openmetrics" && format != "csv" {
			return fmt.Errorf("--format: %q is not openmetrics or csv", format)
		}
		if batch < 1 {
			return fmt.Errorf("--batch: must be at least 1, got %d", batch)
		}
		c, err := promClient(flags)
		if err != nil {
			return err
		}
		var total int64
		for _, f := range args {
			fi, err := os.Stat(f)
			if err != nil {
				return err
			}
			total += fi.Size()
		}
		bar := newProgress(cmd.ErrOrStderr(), total)
		imp := &importer{client: c, batcher: ingest.NewBatcher(batch), bar: bar}
		for _, f := range args {
			if err := imp.file(cmd.Context(), f, format); err != nil {
				bar.done()
				return err
			}
		}
		if err := imp.flush(cmd.Context()); err != nil {
			bar.done()
			return err
		}
		bar.done()
		fmt.Fprintf(cmd.OutOrStdout(), "imported %d samples from %d file(s)", imp.sent-imp.refused, len(args))
		if imp.refused > 0 {
			fmt.Fprintf(cmd.OutOrStdout(), "; the store refused %d (first: %s)", imp.refused, imp.firstRefusal)
		}
		fmt.Fprintln(cmd.OutOrStdout())
		return nil
	}
	return cmd
}

// importer reads files and sends their samples in batches.
type importer struct {
	client       *prom.Client
	batcher      *ingest.Batcher
	bar          *progress
	sent         int64
	refused      int64
	firstRefusal string
}

func (im *importer) file(ctx context.Context, name, format string) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	r := &countingReader{r: f, bar: im.bar}
	if format == "" {
		format = "openmetrics"
		if strings.EqualFold(filepath.Ext(name), ".csv") {
			format = "csv"
		}
	}
	var sr ingest.SampleReader
	if format == "csv" {
		sr = ingest.NewCSVReader(r)
	} else {
		sr = ingest.NewTextReader(r, time.Now())
	}
	for {
		s, err := sr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if im.batcher.Add(s) {
			if err := im.flush(ctx); err != nil {
				return err
			}
		}
	}
}

func (im *importer) flush(ctx context.Context) error {
	n := im.batcher.Len()
	if n == 0 {
		return nil
	}
	err := im.client.Write(ctx, im.batcher.Take())
	im.sent += int64(n)
	var apiErr *prom.APIError
	if errors.As(err, &apiErr) && apiErr.Status == 400 && strings.Contains(apiErr.Message, "samples_refused") {
		im.refused += refusedCount(apiErr.Message)
		if im.firstRefusal == "" {
			im.firstRefusal = apiErr.Message
		}
		err = nil
	}
	im.bar.samples(im.sent)
	return err
}

// refusedCount reads "refused N" from the server's message.
func refusedCount(msg string) int64 {
	_, rest, ok := strings.Cut(msg, "refused ")
	if !ok {
		return 0
	}
	n, _ := strconv.ParseInt(strings.Fields(rest)[0], 10, 64)
	return n
}

type countingReader struct {
	r   io.Reader
	bar *progress
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.bar.add(int64(n))
	return n, err
}

// progress draws a one-line progress bar on a terminal, and a line every
// ten seconds elsewhere.
type progress struct {
	w          io.Writer
	total, n   int64
	nSamples   int64
	start      time.Time
	last       time.Time
	tty        bool
	everyPrint time.Duration
}

func newProgress(w io.Writer, total int64) *progress {
	p := &progress{w: w, total: total, start: time.Now(), everyPrint: 10 * time.Second}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.tty, p.everyPrint = true, 200*time.Millisecond
		}
	}
	return p
}

func (p *progress) add(n int64) {
	p.n += n
	p.maybeDraw()
}

func (p *progress) samples(n int64) {
	p.nSamples = n
	p.maybeDraw()
}

func (p *progress) maybeDraw() {
	if time.Since(p.last) < p.everyPrint {
		return
	}
	p.last = time.Now()
	p.draw()
}

func (p *progress) draw() {
	frac := 1.0
	if p.total > 0 {
		frac = math.Min(1, float64(p.n)/float64(p.total))
	}
	const width = 30
	filled := int(frac * width)
	rate := float64(p.nSamples) / math.Max(time.Since(p.start).Seconds(), 1e-3)
	line := fmt.Sprintf("[%s%s] %3.0f%% %s/%s, %d samples (%.0f/s)", strings.Repeat("#", filled), strings.Repeat(".", width-filled),
		frac*100, mib(p.n), mib(p.total), p.nSamples, rate)
	if p.tty {
		fmt.Fprintf(p.w, "\r%s", line)
	} else {
		fmt.Fprintln(p.w, line)
	}
}

func (p *progress) done() {
	p.draw()
	if p.tty {
		fmt.Fprintln(p.w)
	}
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
