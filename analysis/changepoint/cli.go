package changepoint

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/gaffer-sre/gaffer/analysis/changepoint/detect"
	"github.com/gaffer-sre/gaffer/analysis/changepoint/display"
	"github.com/gaffer-sre/gaffer/analysis/changepoint/signalio"
)

// newChangepointCommand returns `gaffer changepoint` with its detect
// subcommand.
func newChangepointCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "changepoint",
		Short: "Change-point detection (the ruptures equivalent)",
	}
	cmd.AddCommand(newChangepointDetectCommand())
	return cmd
}

type detectFlags struct {
	method, cost, input, output, plot, trueBkps string
	pen, epsilon, gamma                         float64
	nBkps, minSize, jump, width, order          int
}

// detectResult is the --output json document.
type detectResult struct {
	Bkps           []int   `json:"bkps"`
	ElapsedSeconds float64 `json:"elapsed_seconds"`
}

func newChangepointDetectCommand() *cobra.Command {
	var f detectFlags
	cmd := &cobra.Command{
		Use:   "detect",
		Short: "Find the change points of a signal read from CSV or JSON",
		Long: `Find the change points of a signal, with ruptures' methods and costs.

Input (--input FILE, or - for standard input) is CSV with one sample per line
and one column per dimension (a header line is skipped), or a JSON array of
numbers or of arrays. Breakpoints are the end index of every segment, the last
equal to the number of samples. elapsed_seconds is the time of the search
alone, without reading the input.`,
		Example: `  gaffer changepoint detect --method pelt --cost l2 --pen 10 --input signal.csv
  gaffer changepoint detect --method dynp --cost l1 --n-bkps 3 --output table < signal.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDetect(cmd, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.method, "method", "", "search method: "+strings.Join(detect.MethodNames(), ", "))
	fl.StringVar(&f.cost, "cost", "", "cost: "+strings.Join(detect.CostNames(), ", ")+" (kernelcpd: linear, rbf, cosine)")
	fl.Float64Var(&f.pen, "pen", 0, "penalty per breakpoint")
	fl.IntVar(&f.nBkps, "n-bkps", 0, "number of breakpoints")
	fl.Float64Var(&f.epsilon, "epsilon", 0, "budget on the total cost")
	fl.IntVar(&f.minSize, "min-size", 2, "minimum segment length")
	fl.IntVar(&f.jump, "jump", 5, "grid step of candidate breakpoints (kernelcpd: always 1)")
	fl.IntVar(&f.width, "width", 100, "window length (window method)")
	fl.IntVar(&f.order, "order", 4, "autoregressive order (ar cost)")
	fl.Float64Var(&f.gamma, "gamma", 0, "rbf kernel bandwidth (default: median heuristic)")
	fl.StringVar(&f.input, "input", "-", "signal file, or - for standard input")
	fl.StringVar(&f.output, "output", "json", "output format: json or table")
	fl.StringVar(&f.plot, "plot", "", "write a PNG of the signal and its segments to this file")
	fl.StringVar(&f.trueBkps, "true-bkps", "", "comma-separated true breakpoints to shade in --plot")
	_ = cmd.MarkFlagRequired("method")
	_ = cmd.MarkFlagRequired("cost")
	return cmd
}

// detectParams turns the flags into library parameters, naming the flag
// in every error.
func detectParams(cmd *cobra.Command, f detectFlags) (detect.Params, error) {
	p := detect.Params{Method: f.method, Cost: f.cost, MinSize: f.minSize, Jump: f.jump, Width: f.width,
		CostParams: detect.CostParams{Gamma: f.gamma, Order: f.order}}
	fl := cmd.Flags()
	var set []string
	if fl.Changed("pen") {
		p.Pen = &f.pen
		set = append(set, "--pen")
	}
	if fl.Changed("n-bkps") {
		p.NBkps = &f.nBkps
		set = append(set, "--n-bkps")
	}
	if fl.Changed("epsilon") {
		p.Epsilon = &f.epsilon
		set = append(set, "--epsilon")
	}
	if len(set) != 1 {
		return p, fmt.Errorf("give exactly one of --pen, --n-bkps and --epsilon (got %d)", len(set))
	}
	for _, c := range []struct {
		name string
		v    int
	}{{"min-size", f.minSize}, {"jump", f.jump}, {"width", f.width}, {"order", f.order}} {
		if c.v < 1 {
			return p, fmt.Errorf("--%s must be >= 1, got %d", c.name, c.v)
		}
	}
	if fl.Changed("gamma") && !(f.gamma > 0) {
		return p, fmt.Errorf("--gamma must be > 0, got %v", f.gamma)
	}
	if f.output != "json" && f.output != "table" {
		return p, fmt.Errorf("--output must be json or table, got %q", f.output)
	}
	return p, nil
}

func runDetect(cmd *cobra.Command, f detectFlags) error {
	p, err := detectParams(cmd, f)
	if err != nil {
		return err
	}
	method, err := detect.NewMethod(p)
	if err != nil {
		return fmt.Errorf("--method %s --cost %s: %w", f.method, f.cost, err)
	}
	stop, err := p.Stop()
	if err != nil {
		return err
	}
	var trueBkps []int
	if f.trueBkps != "" {
		if trueBkps, err = parseInts(f.trueBkps); err != nil {
			return fmt.Errorf("--true-bkps: %w", err)
		}
	}
	sig, err := readSignal(cmd.InOrStdin(), f.input)
	if err != nil {
		return fmt.Errorf("--input %s: %w", f.input, err)
	}
	start := time.Now()
	bkps, err := method.Segment(cmd.Context(), sig, stop)
	elapsed := time.Since(start)
	if err != nil {
		return fmt.Errorf("detect: %w", err)
	}
	if f.plot != "" {
		if err := writePlot(f.plot, sig, trueBkps, bkps); err != nil {
			return fmt.Errorf("--plot %s: %w", f.plot, err)
		}
	}
	out := cmd.OutOrStdout()
	if f.output == "table" {
		return writeSegmentTable(out, sig, bkps)
	}
	enc := json.NewEncoder(out)
	return enc.Encode(detectResult{Bkps: bkps, ElapsedSeconds: elapsed.Seconds()})
}

func readSignal(stdin io.Reader, path string) (*detect.Signal, error) {
	if path == "-" {
		return signalio.Read(stdin)
	}
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	return signalio.Read(fh)
}

// writePlot renders the plot in memory first, so bad breakpoints or a
// size over display.MaxPixels leave no partial file behind. The image is
// 960 px wide with a panel about 150 px high per dimension.
func writePlot(path string, sig *detect.Signal, trueBkps, bkps []int) error {
	var buf bytes.Buffer
	if err := display.WritePNG(&buf, sig, trueBkps, bkps, 960, 192+154*sig.Dims()); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// writeSegmentTable prints one row per segment with its per-dimension mean.
func writeSegmentTable(w io.Writer, sig *detect.Signal, bkps []int) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SEGMENT\tSTART\tEND\tLENGTH\tMEAN")
	start := 0
	for i, end := range bkps {
		means := make([]string, sig.Dims())
		for j := range means {
			s := 0.0
			for t := start; t < end; t++ {
				s += sig.At(t, j)
			}
			means[j] = strconv.FormatFloat(s/float64(end-start), 'g', 6, 64)
		}
		fmt.Fprintf(tw, "%d\t%d\t%d\t%d\t%s\n", i, start, end, end-start, strings.Join(means, " "))
		start = end
	}
	return tw.Flush()
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, part := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil {
			return nil, fmt.Errorf("%q is not an integer", part)
		}
		out = append(out, v)
	}
	return out, nil
}
