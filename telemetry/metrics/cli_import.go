package metrics

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
		fmt.Fprintf(cmd.OutOrStdout(), "imported %s from %s", cli.Plural(int(imp.sent-imp.refused), "sample", ""), cli.Plural(len(args), "file", ""))
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
	if errors.As(err, &apiErr) && apiErr.Status == 400 && apiErr.ErrorType == "samples_refused" {
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
	// The first line waits a whole interval like the others: drawn on the
	// first read, it showed the file read ahead (often 100%) with no
	// samples sent yet.
	start := time.Now()
	p := &progress{w: w, total: total, start: start, last: start, everyPrint: 10 * time.Second}
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
