package atlas

import (
	"fmt"
	"net/url"
	"os"

	"github.com/spf13/cobra"

	"github.com/gaffer-sre/gaffer/internal/platform/cli"
)

// newAtlasCommand returns `gaffer atlas` with its graph subcommand.
func newAtlasCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "atlas", Short: "Query metrics with Atlas's stack language"}
	flags := cli.AddClientFlags(cmd)

	var q, start, end, step, tz, format, out, title string
	var width, height int
	graph := &cobra.Command{
		Use:   "graph -q EXPR [--s e-3h] [--e now] [--format png|csv|txt|json|std.json|stats.json] [--out FILE]",
		Short: "Render an Atlas graph (GET /api/v1/graph) to a file or standard output",
		Example: `  gaffer atlas graph -q 'name,http_requests_total,:eq,(,region,),:by' --s e-1d --out requests.png
  gaffer atlas graph -q 'name,http_requests_total,:eq,:sum' --format csv`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if q == "" {
				return fmt.Errorf("q: an Atlas expression is required")
			}
			c, err := flags.Client()
			if err != nil {
				return err
			}
			v := url.Values{"q": {q}}
			for k, val := range map[string]string{"s": start, "e": end, "step": step, "tz": tz, "format": format, "title": title} {
				if val != "" {
					v.Set(k, val)
				}
			}
			if width > 0 {
				v.Set("w", fmt.Sprint(width))
			}
			if height > 0 {
				v.Set("h", fmt.Sprint(height))
			}
			body, _, err := c.Get(cmd.Context(), "/api/v1/graph?"+v.Encode())
			if err != nil {
				return err
			}
			if out == "" || out == "-" {
				if format == "png" && out == "" {
					return fmt.Errorf("out: a PNG needs --out FILE (or --out - to write it to standard output)")
				}
				_, err = cmd.OutOrStdout().Write(body)
				return err
			}
			if err := os.WriteFile(out, body, 0o644); err != nil {
				return fmt.Errorf("out: %w", err)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s (%d bytes)\n", out, len(body))
			return nil
		},
	}
	f := graph.Flags()
	f.StringVarP(&q, "query", "q", "", "Atlas stack-language expression")
	f.StringVar(&start, "s", "", "start time (Atlas syntax: e-3h, now-1d, ISO 8601, epoch); default e-3h")
	f.StringVar(&end, "e", "", "end time; default now")
	f.StringVar(&step, "step", "", "step (e.g. 1m); default chosen from the range")
	f.StringVar(&tz, "tz", "", "time zone, e.g. UTC or Europe/Paris")
	f.StringVar(&format, "format", "png", "png, csv, txt, json, std.json or stats.json")
	f.StringVar(&title, "title", "", "graph title")
	f.IntVarP(&width, "width", "w", 0, "graph width in pixels")
	f.IntVar(&height, "height", 0, "graph height in pixels")
	f.StringVarP(&out, "out", "o", "", "file to write (- for standard output)")
	cmd.AddCommand(graph)
	return cmd
}
