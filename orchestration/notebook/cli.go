package notebook

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/gaffer-sre/gaffer/internal/platform/cli"
	"github.com/gaffer-sre/gaffer/orchestration/notebook/nbformat"
	"github.com/gaffer-sre/gaffer/orchestration/notebook/papermill"
	"github.com/gaffer-sre/gaffer/orchestration/notebook/scrapbook"
)

// newNotebookCommand is `gaffer notebook`.
func newNotebookCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "notebook", Short: "List the server's notebooks; run one as papermill does, read its scraps, upload (see docs/notebooks.md)"}
	flags := cli.AddClientFlags(cmd)
	list := listCommand(flags)
	cmd.AddCommand(runCommand(), scrapsCommand(), uploadCommand(flags), list, setDefaultCommand(flags))
	cli.ListByDefault(cmd, list)
	return cmd
}

// runSummary is what `notebook run --output json` prints.
type runSummary struct {
	Status          string  `json:"status"`
	DurationSeconds float64 `json:"duration_seconds"`
	Cells           int     `json:"cells"`
	FailedCell      *int    `json:"failed_cell"`
}

// runCLIArgs are the parsed arguments of `notebook run`. cobra cannot take
// two values for one flag, so the command parses its own arguments, as
// papermill's `-p NAME VALUE` needs.
type runCLIArgs struct {
	input, output string
	params        papermill.Params
	kernel        string
	format        string
	help          bool
}

// clientFlags are the inherited connection flags, which take a value and
// do not apply to a local run.
var clientFlags = map[string]bool{"--server": true, "--token": true, "--token-file": true, "--timeout": true, "--ca-file": true}

func parseRunArgs(args []string) (*runCLIArgs, error) {
	r := &runCLIArgs{format: "table"}
	var pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, value, hasValue := strings.Cut(a, "=")
		need := func(n int) error {
			if hasValue && n == 1 {
				return nil
			}
			if i+n >= len(args) || hasValue {
				return fmt.Errorf("%s needs %d value(s)", name, n)
			}
			return nil
		}
		switch {
		case a == "-h" || a == "--help":
			r.help = true
		case a == "-p" || a == "--parameters":
			if err := need(2); err != nil {
				return nil, fmt.Errorf("-p takes NAME VALUE")
			}
			r.params = append(r.params, papermill.Param{Name: args[i+1], Value: papermill.ParseCLIValue(args[i+2])})
			i += 2
		case name == "-y" || name == "--parameters_yaml", name == "-f" || name == "--parameters_file":
			// papermill's: a YAML (or JSON) mapping of parameters, given
			// or in a file; -p given after it win.
			if err := need(1); err != nil {
				return nil, err
			}
			if !hasValue {
				i++
				value = args[i]
			}
			src := []byte(value)
			if name == "-f" || name == "--parameters_file" {
				b, err := os.ReadFile(value)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", name, err)
				}
				src = b
			}
			m, err := parametersYAML(src)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			r.params = append(r.params, papermill.ParamsFromMap(m)...)
		case name == "-k" || name == "--kernel", name == "-o" || name == "--output", clientFlags[name]:
			if err := need(1); err != nil {
				return nil, err
			}
			if !hasValue {
				i++
				value = args[i]
			}
			switch name {
			case "-k", "--kernel":
				r.kernel = value
			case "-o", "--output":
				r.format = value
			}
		case strings.HasPrefix(a, "-") && a != "-":
			return nil, fmt.Errorf("unknown flag %s", a)
		default:
			pos = append(pos, a)
		}
	}
	if r.help {
		return r, nil
	}
	if len(pos) != 2 {
		return nil, fmt.Errorf("want INPUT.ipynb and OUTPUT.ipynb, got %d arguments", len(pos))
	}
	r.input, r.output = pos[0], pos[1]
	return r, nil
}

func runCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "run INPUT.ipynb OUTPUT.ipynb [-p NAME VALUE ...] [-y YAML] [-f FILE] [--kernel NAME] [--output json]",
		Short: "Run a notebook locally on a Jupyter kernel, as papermill does; OUTPUT is written in every case",
		Long: `Run every cell of INPUT.ipynb on a Jupyter kernel and write the executed
notebook to OUTPUT.ipynb after each cell. -p NAME VALUE (repeatable) sets a
parameter, typed as papermill types it (True, False, None, an integer, a
float, else a string), in a cell tagged injected-parameters after the cell
tagged parameters. The command exits non-zero when a cell raises.`,
		Args: func(_ *cobra.Command, args []string) error {
			_, err := parseRunArgs(args)
			return err
		},
		DisableFlagParsing: true,
	}
	cmd.Flags().StringP("parameters", "p", "", "a parameter: -p NAME VALUE (repeatable)")
	cmd.Flags().StringP("kernel", "k", "", "kernel spec name (default: the notebook's kernelspec, else python3)")
	cmd.Flags().StringP("output", "o", "table", "output format: table or json")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		ra, err := parseRunArgs(args)
		if err != nil {
			return err
		}
		if ra.help {
			return cmd.Help()
		}
		out := &cli.OutputFlag{Format: ra.format}
		if err := out.Validate(); err != nil {
			return err
		}
		res, err := RunFile(cmd.Context(), FileRun{Input: ra.input, Output: ra.output, Params: ra.params, Kernel: ra.kernel, Warn: cmd.ErrOrStderr()})
		if err != nil {
			return err
		}
		sum := runSummary{Status: res.Status, DurationSeconds: res.Duration.Seconds(), Cells: res.Cells}
		if res.FailedCell >= 0 {
			sum.FailedCell = &res.FailedCell
		}
		err = out.Print(cmd.OutOrStdout(), sum, func(t *cli.Table) {
			t.Row(fmt.Sprintf("%s %s → %s: %s in %.2f s", res.Status, ra.input, ra.output, cli.Plural(res.Cells, "cell", "cells"), res.Duration.Seconds()))
		})
		if err != nil {
			return err
		}
		if res.Error != nil {
			return fmt.Errorf("%w (the executed notebook is in %s)", res.Error, ra.output)
		}
		return nil
	}
	return cmd
}

func scrapsCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "scraps OUTPUT.ipynb [--output json]", Short: "Show the values a notebook glued (scrapbook's scraps), by name",
		Args: cobra.ExactArgs(1)}
	out := cli.AddOutputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		nb, err := nbformat.ReadFile(args[0])
		if err != nil {
			return err
		}
		scraps, err := scrapbook.Read(nb)
		if err != nil {
			return fmt.Errorf("%s: %w", args[0], err)
		}
		vals, _ := scrapbook.Values(nb)
		return out.Print(cmd.OutOrStdout(), vals, func(t *cli.Table) {
			t.Row("NAME", "ENCODER", "CELL", "DATA")
			for _, s := range scraps {
				t.Row(s.Name, s.Encoder, s.Cell, compactJSON(s.Data))
			}
		})
	}
	return cmd
}

func compactJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if len(b) > 80 {
		return string(b[:77]) + "..."
	}
	return string(b)
}

// parametersYAML reads a YAML (or JSON) mapping of parameter names to
// values; an empty document or null is no parameters.
func parametersYAML(src []byte) (map[string]any, error) {
	var m map[string]any
	if err := yaml.Unmarshal(src, &m); err != nil {
		return nil, fmt.Errorf("want a mapping of parameter names to values: %w", err)
	}
	// Values as JSON gives them (numbers as json.Number), which is what
	// papermill's literals are written from.
	j, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.UseNumber()
	m = nil
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	return m, nil
}
