package correlate

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gaffer-sre/gaffer/internal/platform/cli"
)

// newAnalyzeCommand returns `gaffer analyze`.
func newAnalyzeCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "analyze", Short: "Automated analysis: which signals moved with this one (see docs/correlate.md)"}
	flags := cli.AddClientFlags(cmd)
	cmd.AddCommand(analyzeCorrelateCommand(flags), analyzeReportCommand(flags))
	return cmd
}

type correlateFlags struct {
	target, targetEngine, candidates, engine string
	from, to, lookback, step, mode           string
	maxLag, top, shardSize                   int
	labels                                   []string
	out                                      cli.OutputFlag
}

func analyzeCorrelateCommand(flags *cli.ClientFlags) *cobra.Command {
	var f correlateFlags
	cmd := &cobra.Command{
		Use:   "correlate --target QUERY --candidates QUERY --from TIME",
		Short: "Rank candidate series by how they moved with a target during an anomaly",
		Long: `Rank the candidate series by how they moved with the target between --from
and --to (the anomaly window), with a baseline of --lookback before it: lagged
cross-correlation of differences, rank correlation, change-point co-occurrence
and the Mann-Whitney shift, combined into one score. The analysis runs as jobs
in shards of candidates, shared by every gaffer worker; a progress bar follows
the shards. Times are RFC 3339 or a duration before now (90m).`,
		Example: `  gaffer analyze correlate --target 'histogram_quantile(0.9, sum by (le) (rate(http_request_duration_seconds_bucket{job="api",region="eu-west-1"}[5m])))' \
    --candidates 'rate({region="eu-west-1", __name__=~"http_.+_total"}[5m])' --from 2h --to 1h`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.out.Validate(); err != nil {
				return err
			}
			c, err := flags.Client()
			if err != nil {
				return err
			}
			req, err := f.request(time.Now())
			if err != nil {
				return err
			}
			var rep Report
			if err := c.Do(cmd.Context(), "POST", "/api/v1/analysis/correlate?wait=0", req, &rep); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "started analysis report %s\n", rep.ID)
			final, err := followReport(cmd.Context(), c, rep.ID, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			return printAnalysis(cmd.OutOrStdout(), &f.out, final)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.target, "target", "", "query of the target series (required)")
	fl.StringVar(&f.targetEngine, "target-engine", "promql", "promql or atlas")
	fl.StringSliceVar(&f.labels, "target-label", nil, "k=v labels picking one series among the target query's (repeatable)")
	fl.StringVar(&f.candidates, "candidates", "", "query of the candidate series (required)")
	fl.StringVar(&f.engine, "engine", "promql", "candidates' engine: promql or atlas")
	fl.StringVar(&f.from, "from", "", "start of the anomaly: RFC 3339, or a duration before now (required)")
	fl.StringVar(&f.to, "to", "", "end of the anomaly (default now)")
	fl.StringVar(&f.lookback, "lookback", "6h", "history before the anomaly")
	fl.StringVar(&f.step, "step", "1m", "step of the series")
	fl.StringVar(&f.mode, "mode", "jobs", "jobs (shards on the job queue) or local (in the server)")
	fl.IntVar(&f.maxLag, "max-lag", 10, "lag search, in steps either way")
	fl.IntVar(&f.top, "top", 20, "candidates explained in the report")
	fl.IntVar(&f.shardSize, "shard-size", 0, "candidates per job (default: the server's)")
	fl.StringVarP(&f.out.Format, "output", "o", "table", "output format: table or json")
	return cmd
}

// cliTime reads RFC 3339 or a duration before now.
func cliTime(v string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither RFC 3339 nor a duration such as 90m", v)
	}
	return now.Add(-d), nil
}

func (f *correlateFlags) request(now time.Time) (Request, error) {
	if f.target == "" || f.candidates == "" || f.from == "" {
		return Request{}, fmt.Errorf("--target, --candidates and --from are required")
	}
	start, err := cliTime(f.from, now)
	if err != nil {
		return Request{}, fmt.Errorf("--from: %w", err)
	}
	end := now
	if f.to != "" {
		if end, err = cliTime(f.to, now); err != nil {
			return Request{}, fmt.Errorf("--to: %w", err)
		}
	}
	req := Request{
		Target:     Query{Query: f.target, Engine: f.targetEngine},
		Candidates: Query{Query: f.candidates, Engine: f.engine},
		Start:      start, End: end, Lookback: f.lookback, Step: f.step, Top: f.top, ShardSize: f.shardSize, Mode: f.mode,
	}
	req.Params.MaxLag = f.maxLag
	for _, kv := range f.labels {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return req, fmt.Errorf("--target-label: want k=v, got %q", kv)
		}
		if req.Target.Labels == nil {
			req.Target.Labels = map[string]string{}
		}
		req.Target.Labels[k] = v
	}
	return req, nil
}

// followReport polls a report until it is complete or failed, drawing
// the shards' progress on w.
func followReport(ctx context.Context, c *cli.Client, id string, w io.Writer) (*Report, error) {
	bar := newShardBar(w)
	for {
		var rep Report
		if err := c.Do(ctx, "GET", "/api/v1/analysis/reports/"+url.PathEscape(id), nil, &rep); err != nil {
			return nil, err
		}
		bar.show(&rep)
		switch rep.Status {
		case StatusComplete:
			bar.done()
			return &rep, nil
		case StatusFailed:
			bar.done()
			return nil, fmt.Errorf("analysis %s failed: %s", id, rep.Error)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// shardBar draws an analysis's progress: a bar on a terminal, a line per
// change elsewhere.
type shardBar struct {
	w    io.Writer
	tty  bool
	last string
}

func newShardBar(w io.Writer) *shardBar {
	b := &shardBar{w: w}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			b.tty = true
		}
	}
	return b
}

func (b *shardBar) show(rep *Report) {
	const width = 30
	frac := 0.0
	if rep.Shards > 0 {
		frac = float64(rep.ShardsDone) / float64(rep.Shards)
	}
	if rep.Status == StatusComplete {
		frac = 1
	}
	filled := int(frac * width)
	line := fmt.Sprintf("[%s%s] %3.0f%% %s: %d/%d shards, %d candidates", strings.Repeat("#", filled),
		strings.Repeat(".", width-filled), 100*frac, rep.Status, rep.ShardsDone, rep.Shards, rep.Candidates)
	if line == b.last {
		return
	}
	b.last = line
	if b.tty {
		fmt.Fprintf(b.w, "\r%s", line)
	} else {
		fmt.Fprintln(b.w, line)
	}
}

func (b *shardBar) done() {
	if b.tty {
		fmt.Fprintln(b.w)
	}
}

// printAnalysis writes a complete report's ranking.
func printAnalysis(w io.Writer, out *cli.OutputFlag, rep *Report) error {
	return out.Print(w, rep, func(t *cli.Table) {
		if s := rep.Summary; s != nil {
			t.Row("target", seriesText(s.Target.Labels), "moved at", s.Target.Onset.Format(time.RFC3339))
			if m := s.FirstMover; m != nil {
				t.Row("first mover", seriesText(m.Labels), "at", m.At.Format(time.RFC3339)+" ("+m.Lead+" before)")
			}
			t.Row("")
			t.Row("RANK", "SCORE", "SERIES", "MOVED", "WHY")
			for _, r := range s.Results {
				moved := ""
				if r.MovedAt != nil {
					moved = r.MovedAt.Format("15:04")
				}
				t.Row(r.Rank, fmt.Sprintf("%.3f", r.Score), seriesText(r.Labels), moved, r.Explanation.Summary)
			}
		}
	})
}

// seriesText formats labels, the metric name first.
func seriesText(ls map[string]string) string {
	name := ls["__name__"]
	if name == "" {
		name = ls["name"]
	}
	var parts []string
	for k, v := range ls {
		if k != "__name__" && k != "name" {
			parts = append(parts, k+"="+v)
		}
	}
	sort.Strings(parts)
	return name + "{" + strings.Join(parts, ",") + "}"
}

func analyzeReportCommand(flags *cli.ClientFlags) *cobra.Command {
	out := &cli.OutputFlag{}
	cmd := &cobra.Command{
		Use:   "report ID",
		Short: "Show an analysis report (following it until it is complete)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := out.Validate(); err != nil {
				return err
			}
			c, err := flags.Client()
			if err != nil {
				return err
			}
			ref, err := cli.ResolveRecent(cmd.Context(), c, "analysis report", args[0], "/api/v1/analysis/reports?limit=500",
				func(r Report) cli.Ref { return cli.Ref{ID: r.ID} })
			if err != nil {
				return err
			}
			rep, err := followReport(cmd.Context(), c, ref.ID, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			return printAnalysis(cmd.OutOrStdout(), out, rep)
		},
	}
	cmd.Flags().StringVarP(&out.Format, "output", "o", "table", "output format: table or json")
	return cmd
}
