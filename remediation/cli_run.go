package remediation

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gaffer-sre/gaffer/internal/platform/cli"
)

// parseParams reads --param k=v flags; a value that is valid JSON is
// taken as JSON (numbers, booleans, lists), anything else as a string.
func parseParams(kvs []string, raw string) (json.RawMessage, error) {
	params := map[string]any{}
	if raw != "" {
		if err := json.Unmarshal([]byte(raw), &params); err != nil {
			return nil, fmt.Errorf("params-json: want a JSON object: %w", err)
		}
	}
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("param %q: want KEY=VALUE", kv)
		}
		var j any
		if err := json.Unmarshal([]byte(v), &j); err == nil {
			params[k] = j
		} else {
			params[k] = v
		}
	}
	return json.Marshal(params)
}

func runbookRunCommand(flags *cli.ClientFlags) *cobra.Command {
	var kvs []string
	var raw, env string
	var version int
	var wait bool
	cmd := &cobra.Command{Use: "run NAME [--param KEY=VALUE ...] [--wait]", Short: "Start a run; with --wait, follow its output and exit 0 only if it succeeds",
		Args: cobra.ExactArgs(1)}
	out := cli.AddOutputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if err := out.Validate(); err != nil {
			return err
		}
		c, err := flags.Client()
		if err != nil {
			return err
		}
		params, err := parseParams(kvs, raw)
		if err != nil {
			return err
		}
		var ex Execution
		req := RunRequest{Env: env, Version: version, Params: params}
		if err := c.Do(cmd.Context(), "POST", rbAPI+"/runbooks/"+url.PathEscape(args[0])+"/run", req, &ex); err != nil {
			return err
		}
		if !wait {
			if out.JSON() {
				return out.Print(cmd.OutOrStdout(), ex, nil)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "started execution %s of runbook %s version %d, now %s\n", ex.ID, ex.Runbook, ex.Version, ex.Status)
			return nil
		}
		if !out.JSON() {
			fmt.Fprintf(cmd.ErrOrStderr(), "started execution %s of runbook %s version %d\n", ex.ID, ex.Runbook, ex.Version)
		}
		return waitExecution(cmd, c, ex.ID, out)
	}
	f := cmd.Flags()
	f.StringArrayVarP(&kvs, "param", "p", nil, "parameter KEY=VALUE (repeatable; JSON values are parsed)")
	f.StringVar(&raw, "params-json", "", "parameters as a JSON object")
	f.StringVar(&env, "env", "", "environment whose version runs (dev, test, prod; default prod, else the latest)")
	f.IntVar(&version, "version", 0, "run this version")
	f.BoolVar(&wait, "wait", false, "follow the execution's output until it ends; exit 0 only if it succeeded")
	return cmd
}

// waitExecution streams an execution's output (to stderr when the result
// is printed as JSON) and returns an error unless it succeeded.
func waitExecution(cmd *cobra.Command, c *cli.Client, id string, out *cli.OutputFlag) error {
	logTo := cmd.OutOrStdout()
	if out.JSON() {
		logTo = cmd.ErrOrStderr()
	}
	var after int64
	for {
		body, err := c.Stream(cmd.Context(), fmt.Sprintf("%s/executions/%s/logs?after=%d", rbAPI, id, after))
		if err != nil {
			return err
		}
		ended := followLogs(body, logTo, &after)
		body.Close()
		if ended || cmd.Context().Err() != nil {
			break
		}
		time.Sleep(time.Second) // the stream broke; pick it up again
	}
	var ex Execution
	if err := c.Do(cmd.Context(), "GET", rbAPI+"/executions/"+id, nil, &ex); err != nil {
		return err
	}
	if out.JSON() {
		out.Print(cmd.OutOrStdout(), ex, nil)
	} else {
		line := "execution " + ex.ID + " " + ex.Status
		if ex.Error != "" {
			line += ": " + ex.Error
		}
		fmt.Fprintln(cmd.OutOrStdout(), line)
	}
	if ex.Status != ExecSucceeded {
		return fmt.Errorf("execution %s %s", ex.ID, ex.Status)
	}
	return nil
}

// followLogs copies "log" events to w and reports whether "end" came.
func followLogs(r io.Reader, w io.Writer, after *int64) bool {
	ended := false
	cli.ReadEvents(r, func(event, data string) bool {
		if event == "end" {
			ended = true
			return false
		}
		var l LogLine
		if json.Unmarshal([]byte(data), &l) == nil {
			*after = l.ID
			prefix := "[" + l.Step + "] "
			for _, part := range strings.SplitAfter(l.Data, "\n") {
				if part != "" {
					io.WriteString(w, prefix+part)
				}
			}
			if !strings.HasSuffix(l.Data, "\n") {
				io.WriteString(w, "\n")
			}
		}
		return true
	})
	return ended
}
