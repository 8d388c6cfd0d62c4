package remediation

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gaffer-sre/gaffer/internal/platform/cli"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
)

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
		var page httpapi.Page[Execution]
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

// resolveExecution names the execution ref refers to: its ID or a unique
// prefix of the ID among the recent executions.
func resolveExecution(cmd *cobra.Command, c *cli.Client, ref string) (string, error) {
	r, err := cli.ResolveRecent(cmd.Context(), c, "execution", ref, rbAPI+"/executions?limit=500",
		func(e Execution) cli.Ref { return cli.Ref{ID: e.ID} })
	return r.ID, err
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
		id, err := resolveExecution(cmd, c, args[0])
		if err != nil {
			return err
		}
		if wait {
			return waitExecution(cmd, c, id, out)
		}
		var ex Execution
		if err := c.Do(cmd.Context(), "GET", rbAPI+"/executions/"+url.PathEscape(id), nil, &ex); err != nil {
			return err
		}
		return out.Print(cmd.OutOrStdout(), ex, func(t *cli.Table) {
			t.Row("STEP", "TYPE", "STATUS", "ATTEMPT", "AGENT", "ERROR")
			for _, s := range ex.Steps {
				t.Row(s.Key, s.Type, s.Status, s.Attempt, s.Agent, firstLine(s.Error))
			}
			t.Row("")
			t.Row("execution", ex.ID, ex.Status, "", "", firstLine(ex.Error+ex.Attention))
			for _, s := range ex.Steps {
				if s.Status == StepUnknown {
					t.Row("settle", s.Key, "", "", "", fmt.Sprintf("gaffer runbook control rerun %s %s | control resolve %s %s (succeeded|failed)",
						ex.ID, s.Key, ex.ID, s.Key))
				}
			}
		})
	}
	cmd.Flags().BoolVar(&wait, "wait", false, "follow the output until the execution ends; exit 0 only if it succeeded")
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
			exID, err := resolveExecution(cmd, c, args[1])
			if err != nil {
				return err
			}
			id := url.PathEscape(exID)
			var ex Execution
			switch op := args[0]; {
			case (op == "pause" || op == "resume" || op == "cancel") && len(args) == 2:
				err = c.Do(cmd.Context(), "POST", rbAPI+"/executions/"+id+"/"+op, nil, &ex)
			case op == "rerun" && len(args) == 3:
				err = c.Do(cmd.Context(), "POST", rbAPI+"/executions/"+id+"/steps/"+url.PathEscape(args[2])+"/rerun", nil, &ex)
			case op == "resolve" && len(args) == 4:
				err = c.Do(cmd.Context(), "POST", rbAPI+"/executions/"+id+"/steps/"+url.PathEscape(args[2])+"/resolve",
					ResolveRequest{As: args[3]}, &ex)
			default:
				return errors.New("usage: " + cmd.Use)
			}
			if err != nil {
				return err
			}
			what := map[string]string{"pause": "paused", "resume": "resumed", "cancel": "cancelled"}[args[0]]
			if what == "" {
				what = map[string]string{"rerun": "re-ran", "resolve": "resolved"}[args[0]] + " step " + args[2] + " of"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s execution %s, now %s\n", what, ex.ID, ex.Status)
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
			req := ApproveRequest{Reason: reason}
			if answer != "" {
				if !json.Valid([]byte(answer)) {
					return fmt.Errorf("answer: not valid JSON: %s", answer)
				}
				req.Answer = json.RawMessage(answer)
			}
			id, err := resolveExecution(cmd, c, args[0])
			if err != nil {
				return err
			}
			var ex Execution
			if err := c.Do(cmd.Context(), "POST", rbAPI+"/executions/"+url.PathEscape(id)+"/steps/"+url.PathEscape(args[1])+"/"+op,
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
