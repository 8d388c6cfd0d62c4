package metrics

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gaffer-sre/gaffer/internal/platform/cli"
	"github.com/gaffer-sre/gaffer/telemetry/prom"
)

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
