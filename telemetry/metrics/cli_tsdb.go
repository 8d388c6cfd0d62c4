package metrics

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

// newTSDBCommand is `gaffer tsdb`: local tools for the time-series store.
func newTSDBCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tsdb",
		Short: "Inspect the time-series store on disk",
	}
	cmd.AddCommand(newTSDBInspectCommand())
	return cmd
}

func newTSDBInspectCommand() *cobra.Command {
	var dataDir, output string
	var top int
	cmd := &cobra.Command{
		Use:   "inspect",
		Short: "Show series, samples, bytes per sample and the metrics with most series",
		Long: "inspect opens <data-dir>/tsdb read-only (a running server may keep writing)\n" +
			"and prints series and sample counts, disk use, bytes per sample, the blocks\n" +
			"and the metrics with the most series.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "table" && output != "json" {
				return fmt.Errorf("--output must be table or json, not %q", output)
			}
			dir := filepath.Join(dataDir, "tsdb")
			if _, err := os.Stat(dir); err != nil {
				return fmt.Errorf("no store at %s: %w", dir, err)
			}
			opts := tsdb.DefaultOptions()
			opts.ReadOnly = true
			db, err := tsdb.Open(dir, opts)
			if err != nil {
				return err
			}
			defer db.Close()
			st, err := db.Stats(top)
			if err != nil {
				return fmt.Errorf("inspect %s: %w", dir, err)
			}
			if output == "json" {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(st)
			}
			return printTSDBStats(cmd.OutOrStdout(), dir, st)
		},
	}
	cmd.Flags().StringVar(&dataDir, "data-dir", "gaffer-data", "Gaffer's data directory (the store is its tsdb folder)")
	cmd.Flags().StringVar(&output, "output", "table", "output format: table or json")
	cmd.Flags().IntVar(&top, "top", 10, "how many metrics to list by cardinality")
	return cmd
}

// printTSDBStats writes the stats as aligned tables.
func printTSDBStats(w io.Writer, dir string, st tsdb.Stats) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "store\t%s\n", dir)
	fmt.Fprintf(tw, "series\t%d (%d active in memory)\n", st.Series, st.HeadSeries)
	fmt.Fprintf(tw, "samples\t%d (%d in memory)\n", st.Samples, st.HeadSamples)
	fmt.Fprintf(tw, "time range\t%s\n", timeRange(st.MinTime, st.MaxTime))
	fmt.Fprintf(tw, "disk\t%d bytes in blocks, %d bytes of WAL\n", st.BlockBytes, st.WALBytes)
	fmt.Fprintf(tw, "bytes per sample\t%.3f (raw blocks)\n", st.BytesPerSample)
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "BLOCK\tRESOLUTION\tFROM\tTO\tSERIES\tSAMPLES\tBYTES")
	for _, b := range st.Blocks {
		res := "raw"
		if b.Resolution > 0 {
			res = (time.Duration(b.Resolution) * time.Millisecond).String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\n", b.ID, res, msTime(b.MinTime), msTime(b.MaxTime), b.Series, b.Samples, b.Bytes)
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "METRIC\tSERIES")
	for _, m := range st.TopMetrics {
		fmt.Fprintf(tw, "%s\t%d\n", m.Name, m.Series)
	}
	return tw.Flush()
}

func msTime(ms int64) string { return time.UnixMilli(ms).UTC().Format(time.RFC3339) }

func timeRange(mint, maxt int64) string {
	if mint == 0 && maxt == 0 {
		return "empty"
	}
	return msTime(mint) + " to " + msTime(maxt)
}
