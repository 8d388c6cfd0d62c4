package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gaffer-sre/gaffer/internal/platform/cli"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
	"github.com/gaffer-sre/gaffer/remediation"
)

func init() { registerCommand(newRunbookCommand) }

func newRunbookCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "runbook", Short: "Runbooks: apply, run, follow executions, promote and roll back (see docs/remediation.md)"}
	flags := cli.AddClientFlags(cmd)
	cmd.AddCommand(runbookApplyCommand(flags, false), runbookApplyCommand(flags, true), runbookListCommand(flags),
		runbookRunCommand(flags), runbookExecutionsCommand(flags), runbookExecutionCommand(flags),
		runbookEnvCommand(flags, "promote"), runbookEnvCommand(flags, "rollback"), runbookControlCommand(flags),
		runbookApproveCommand(flags))
	return cmd
}

const rbAPI = "/api/v1/remediation"

func runbookApplyCommand(flags *cli.ClientFlags, validate bool) *cobra.Command {
	var file, message string
	use, short := "apply -f FILE", "Create or update a runbook from YAML (a new version, deployed to dev)"
	if validate {
		use, short = "validate -f FILE", "Check a runbook file against the schema and rules, without saving it"
	}
	cmd := &cobra.Command{Use: use, Short: short, Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := flags.Client()
			if err != nil {
				return err
			}
			src, err := cli.ReadInput(cmd, file)
			if err != nil {
				return err
			}
			if validate {
				var res remediation.ValidateResult
				if err := c.DoRaw(cmd.Context(), "POST", rbAPI+"/runbooks/validate", "application/yaml", src, &res); err != nil {
					return err
				}
				if res.Valid {
					fmt.Fprintf(cmd.OutOrStdout(), "%s: valid\n", file)
					return nil
				}
				for _, p := range res.Problems {
					fmt.Fprintf(cmd.OutOrStdout(), "%s:%d:%d: %s: %s\n", file, p.Line, p.Column, p.Path, p.Message)
				}
				return fmt.Errorf("%s: %d problems", file, len(res.Problems))
			}
			var res remediation.ApplyResult
			path := rbAPI + "/runbooks"
			if message != "" {
				path += "?message=" + url.QueryEscape(message)
			}
			if err := c.DoRaw(cmd.Context(), "POST", path, "application/yaml", src, &res); err != nil {
				return err
			}
			note := "new version, deployed to dev"
			if res.Unchanged {
				note = "unchanged"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s version %d (%s)\n", res.Runbook, res.Version, note)
			return nil
		}}
	cmd.Flags().StringVarP(&file, "file", "f", "", "runbook YAML file (- for standard input)")
	cmd.MarkFlagRequired("file")
	if !validate {
		cmd.Flags().StringVarP(&message, "message", "m", "", "change note")
	}
	return cmd
}

func runbookListCommand(flags *cli.ClientFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "list", Short: "List runbooks and the versions each environment runs", Args: cobra.NoArgs}
	out := cli.AddOutputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		c, err := flags.Client()
		if err != nil {
			return err
		}
		var page httpapi.Page[remediation.RunbookInfo]
		if err := c.Do(cmd.Context(), "GET", rbAPI+"/runbooks", nil, &page); err != nil {
			return err
		}
		return out.Print(cmd.OutOrStdout(), page.Items, func(t *cli.Table) {
			t.Row("NAME", "LATEST", "DEV", "TEST", "PROD", "SCHEDULE")
			for _, r := range page.Items {
				t.Row(r.Name, r.Latest, r.Envs["dev"], r.Envs["test"], r.Envs["prod"], r.Schedule)
			}
		})
	}
	return cmd
}

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
		var ex remediation.Execution
		req := remediation.RunRequest{Env: env, Version: version, Params: params}
		if err := c.Do(cmd.Context(), "POST", rbAPI+"/runbooks/"+url.PathEscape(args[0])+"/run", req, &ex); err != nil {
			return err
		}
		if !wait {
			return out.Print(cmd.OutOrStdout(), ex, func(t *cli.Table) {
				t.Row("EXECUTION", "RUNBOOK", "VERSION", "STATUS")
				t.Row(ex.ID, ex.Runbook, ex.Version, ex.Status)
			})
		}
		if !out.JSON() {
			fmt.Fprintf(cmd.ErrOrStderr(), "execution %s of %s version %d\n", ex.ID, ex.Runbook, ex.Version)
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
	var ex remediation.Execution
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
	if ex.Status != remediation.ExecSucceeded {
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
		var l remediation.LogLine
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

func runbookExecutionsCommand(flags *cli.ClientFlags) *cobra.Command {
	var runbook, status string
	var limit int
	cmd := &cobra.Command{Use: "executions", Short: "List executions, newest first", Args: cobra.NoArgs}
	out := cli.AddOutputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		c, err := flags.Client()
		if err != nil {
			return err
		}
		q := url.Values{}
		for k, v := range map[string]string{"runbook": runbook, "status": status, "limit": fmt.Sprint(limit)} {
			if v != "" && v != "0" {
				q.Set(k, v)
			}
		}
		var page httpapi.Page[remediation.Execution]
		if err := c.Do(cmd.Context(), "GET", rbAPI+"/executions?"+q.Encode(), nil, &page); err != nil {
			return err
		}
		return out.Print(cmd.OutOrStdout(), page.Items, func(t *cli.Table) {
			t.Row("EXECUTION", "RUNBOOK", "VERSION", "STATUS", "TRIGGER", "STARTED", "ERROR")
			for _, e := range page.Items {
				t.Row(e.ID, e.Runbook, e.Version, e.Status, e.Trigger.Kind+" "+e.StartedBy, e.CreatedAt.Format(time.RFC3339),
					firstLine(e.Error+e.Attention))
			}
		})
	}
	f := cmd.Flags()
	f.StringVar(&runbook, "runbook", "", "only this runbook's")
	f.StringVar(&status, "status", "", "only executions in this status")
	f.IntVar(&limit, "limit", 50, "how many")
	return cmd
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

func runbookExecutionCommand(flags *cli.ClientFlags) *cobra.Command {
	var wait bool
	cmd := &cobra.Command{Use: "execution ID", Short: "Show an execution's steps (with --wait, follow it to its end)", Args: cobra.ExactArgs(1)}
	out := cli.AddOutputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		c, err := flags.Client()
		if err != nil {
			return err
		}
		if wait {
			return waitExecution(cmd, c, args[0], out)
		}
		var ex remediation.Execution
		if err := c.Do(cmd.Context(), "GET", rbAPI+"/executions/"+url.PathEscape(args[0]), nil, &ex); err != nil {
			return err
		}
		return out.Print(cmd.OutOrStdout(), ex, func(t *cli.Table) {
			t.Row("STEP", "TYPE", "STATUS", "ATTEMPT", "AGENT", "ERROR")
			for _, s := range ex.Steps {
				t.Row(s.Key, s.Type, s.Status, s.Attempt, s.Agent, firstLine(s.Error))
			}
			t.Row("")
			t.Row("execution", ex.ID, ex.Status, "", "", firstLine(ex.Error+ex.Attention))
		})
	}
	cmd.Flags().BoolVar(&wait, "wait", false, "follow the output until the execution ends; exit 0 only if it succeeded")
	return cmd
}

func runbookEnvCommand(flags *cli.ClientFlags, op string) *cobra.Command {
	var env string
	var version int
	short := "Promote a runbook: set ENV to the previous environment's version (dev → test → prod), or to --version"
	if op == "rollback" {
		short = "Set ENV back to the version it ran before"
	}
	cmd := &cobra.Command{Use: op + " NAME --env ENV", Short: short, Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := flags.Client()
			if err != nil {
				return err
			}
			var d remediation.Deployment
			if err := c.Do(cmd.Context(), "POST", rbAPI+"/runbooks/"+url.PathEscape(args[0])+"/"+op,
				remediation.PromoteRequest{Env: env, Version: version}, &d); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s %s now runs version %d (%s)\n", args[0], d.Env, d.Version, d.Note)
			return nil
		}}
	cmd.Flags().StringVar(&env, "env", "", "dev, test or prod")
	cmd.MarkFlagRequired("env")
	if op == "promote" {
		cmd.Flags().IntVar(&version, "version", 0, "deploy this version instead")
	}
	return cmd
}

func runbookControlCommand(flags *cli.ClientFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "control (pause|resume|cancel) ID | rerun ID STEP | resolve ID STEP (succeeded|failed)",
		Short: "Pause, resume or cancel an execution; re-run a step; settle a step whose outcome is unknown",
		Args:  cobra.RangeArgs(2, 4),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := flags.Client()
			if err != nil {
				return err
			}
			id := url.PathEscape(args[1])
			var ex remediation.Execution
			switch op := args[0]; {
			case (op == "pause" || op == "resume" || op == "cancel") && len(args) == 2:
				err = c.Do(cmd.Context(), "POST", rbAPI+"/executions/"+id+"/"+op, nil, &ex)
			case op == "rerun" && len(args) == 3:
				err = c.Do(cmd.Context(), "POST", rbAPI+"/executions/"+id+"/steps/"+url.PathEscape(args[2])+"/rerun", nil, &ex)
			case op == "resolve" && len(args) == 4:
				err = c.Do(cmd.Context(), "POST", rbAPI+"/executions/"+id+"/steps/"+url.PathEscape(args[2])+"/resolve",
					remediation.ResolveRequest{As: args[3]}, &ex)
			default:
				return errors.New("usage: " + cmd.Use)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "execution %s %s\n", ex.ID, ex.Status)
			return nil
		}}
	return cmd
}

func runbookApproveCommand(flags *cli.ClientFlags) *cobra.Command {
	var answer, reason string
	var reject bool
	cmd := &cobra.Command{Use: "approve ID STEP [--answer JSON] [--reject --reason TEXT]", Short: "Answer an approval step",
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := flags.Client()
			if err != nil {
				return err
			}
			op := "approve"
			if reject {
				op = "reject"
			}
			req := remediation.ApproveRequest{Reason: reason}
			if answer != "" {
				if !json.Valid([]byte(answer)) {
					return fmt.Errorf("answer: not valid JSON: %s", answer)
				}
				req.Answer = json.RawMessage(answer)
			}
			var ex remediation.Execution
			if err := c.Do(cmd.Context(), "POST", rbAPI+"/executions/"+url.PathEscape(args[0])+"/steps/"+url.PathEscape(args[1])+"/"+op,
				req, &ex); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%sd step %s; execution %s is %s\n", op, args[1], ex.ID, ex.Status)
			return nil
		}}
	f := cmd.Flags()
	f.StringVar(&answer, "answer", "", "the answer, as JSON (checked against the step's schema)")
	f.BoolVar(&reject, "reject", false, "reject instead of approving")
	f.StringVar(&reason, "reason", "", "why (for a rejection)")
	return cmd
}
