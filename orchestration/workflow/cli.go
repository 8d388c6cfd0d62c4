package workflow

import (
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gaffer-sre/gaffer/internal/platform/cli"
)

// newWorkflowCommand is `gaffer workflow`, the system's client.
func newWorkflowCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "workflow", Short: "Workflows (Maestro definitions): apply, start, list, show, instances, stop, versions (see docs/workflow.md)"}
	flags := cli.AddClientFlags(cmd)
	cmd.AddCommand(wfApplyCommand(flags), wfStartCommand(flags), wfListCommand(flags), wfShowCommand(flags),
		wfInstancesCommand(flags),
		wfInstanceActionCommand(flags, "stop", "stopped", "Stop an instance: its running steps end as STOPPED"), wfVersionsCommand(flags), wfActivateCommand(flags), wfBackfillCommand(flags),
		wfInstanceActionCommand(flags, "restart", "restarted", "Run a FAILED or STOPPED instance again from its unfinished steps"),
		wfInstanceActionCommand(flags, "pause", "paused", "Pause an instance: its running steps finish, no other starts"),
		wfInstanceActionCommand(flags, "resume", "resumed", "Resume a paused instance"),
		wfSignalCommand(flags), wfTemplateCommand(flags), wfUnblockCommand(flags))
	for _, sub := range cmd.Commands() {
		if sub.Name() == "list" {
			cli.ListByDefault(cmd, sub)
		}
	}
	return cmd
}

func wfApplyCommand(flags *cli.ClientFlags) *cobra.Command {
	var file string
	cmd := &cobra.Command{Use: "apply -f FILE [--output json]", Short: "Apply a workflow definition (Maestro JSON or YAML); prints its id and version",
		Args: cobra.NoArgs}
	out := cli.AddOutputFlag(cmd)
	cmd.Flags().StringVarP(&file, "file", "f", "", "the definition (- for standard input)")
	cmd.MarkFlagRequired("file")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		return applyFile(cmd, flags, out, api, file, "workflow")
	}
	return cmd
}

// applyFile POSTs the document in file (JSON, else YAML) to path and
// prints its id and version, as the workflow and template apply
// commands do; what names the document in the confirmation.
func applyFile(cmd *cobra.Command, flags *cli.ClientFlags, out *cli.OutputFlag, path, file, what string) error {
	c, err := flags.Client()
	if err != nil {
		return err
	}
	src, err := cli.ReadInput(cmd, file)
	if err != nil {
		return err
	}
	ct := "application/json"
	if !strings.HasPrefix(strings.TrimSpace(string(src)), "{") {
		ct = "application/yaml"
	}
	var res Applied
	if err := c.DoRaw(cmd.Context(), "POST", path+"?file="+url.QueryEscape(filepath.Base(file)), ct, src, &res); err != nil {
		return err
	}
	return out.Print(cmd.OutOrStdout(), map[string]any{"id": res.ID, "version": res.Version}, func(t *cli.Table) {
		note := ""
		if res.Unchanged {
			note = " (unchanged)"
		}
		t.Row(fmt.Sprintf("applied %s %s: version %d%s", what, res.ID, res.Version, note))
	})
}

// waitResult is what `start --wait --output json` prints.
type waitResult struct {
	WorkflowID string       `json:"workflow_id"`
	InstanceID int64        `json:"instance_id"`
	Status     string       `json:"status"`
	Steps      []waitedStep `json:"steps"`
}

type waitedStep struct {
	ID       string `json:"id"`
	Status   string `json:"status"`
	Attempts int    `json:"attempts"`
}

func wfStartCommand(flags *cli.ClientFlags) *cobra.Command {
	var params []string
	var wait bool
	var version int
	cmd := &cobra.Command{Use: "start WORKFLOW_ID [--param NAME=VALUE ...] [--wait] [--output json]",
		Short: "Start an instance; with --wait, follow it to its end and exit 0 only if it SUCCEEDED", Args: cobra.ExactArgs(1)}
	out := cli.AddOutputFlag(cmd)
	cmd.Flags().StringArrayVar(&params, "param", nil, "a run param NAME=VALUE (a JSON array or object for array and map params); repeatable")
	cmd.Flags().BoolVar(&wait, "wait", false, "wait for the instance to end")
	cmd.Flags().IntVar(&version, "version", 0, "run this version instead of the active one")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		c, err := flags.Client()
		if err != nil {
			return err
		}
		req := StartRequest{Params: map[string]any{}, Version: version}
		for _, p := range params {
			name, value, ok := strings.Cut(p, "=")
			if !ok || name == "" {
				return fmt.Errorf("--param %q: want NAME=VALUE", p)
			}
			var v any = value
			if t := strings.TrimSpace(value); strings.HasPrefix(t, "[") || strings.HasPrefix(t, "{") {
				if err := json.Unmarshal([]byte(t), &v); err != nil {
					return fmt.Errorf("--param %s: %w", name, err)
				}
			}
			req.Params[name] = v
		}
		var in Instance
		base := api + "/" + url.PathEscape(args[0]) + "/instances"
		if err := c.Do(cmd.Context(), "POST", base, req, &in); err != nil {
			return err
		}
		if wait {
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
			for !instanceTerminal(in.Status) {
				select {
				case <-cmd.Context().Done():
					return cmd.Context().Err()
				case <-tick.C:
				}
				if err := c.Do(cmd.Context(), "GET", fmt.Sprintf("%s/%d", base, in.InstanceID), nil, &in); err != nil {
					return err
				}
			}
		}
		res := waitResult{WorkflowID: in.WorkflowID, InstanceID: in.InstanceID, Status: in.Status, Steps: []waitedStep{}}
		for _, s := range in.Steps {
			res.Steps = append(res.Steps, waitedStep{ID: s.ID, Status: s.Status, Attempts: s.Attempts})
		}
		err = out.Print(cmd.OutOrStdout(), res, func(t *cli.Table) {
			line := fmt.Sprintf("started workflow %s instance %d: %s", in.WorkflowID, in.InstanceID, in.Status)
			if wait {
				line = fmt.Sprintf("ended workflow %s instance %d: %s", in.WorkflowID, in.InstanceID, in.Status)
			}
			if in.Error != "" {
				line += " (" + in.Error + ")"
			}
			t.Row(line)
		})
		if err == nil && wait && in.Status != InstanceSucceeded {
			return fmt.Errorf("workflow %s instance %d %s", in.WorkflowID, in.InstanceID, in.Status)
		}
		return err
	}
	return cmd
}

func wfListCommand(flags *cli.ClientFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "list", Short: "List workflows", Args: cobra.NoArgs}
	out := cli.AddOutputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		c, err := flags.Client()
		if err != nil {
			return err
		}
		var list []Workflow
		if err := c.Do(cmd.Context(), "GET", api, nil, &list); err != nil {
			return err
		}
		return out.Print(cmd.OutOrStdout(), list, func(t *cli.Table) {
			t.Row("ID", "ACTIVE", "LATEST", "STEPS", "OWNER", "NAME")
			for _, w := range list {
				t.Row(w.ID, w.Active, w.Latest, w.Steps, w.Owner, w.Name)
			}
		})
	}
	return cmd
}

func wfShowCommand(flags *cli.ClientFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "show WORKFLOW_ID [INSTANCE_ID]", Short: "Show a workflow's active definition, or an instance and its steps",
		Args: cobra.RangeArgs(1, 2)}
	out := cli.AddOutputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		c, err := flags.Client()
		if err != nil {
			return err
		}
		if len(args) == 2 {
			var in Instance
			if err := c.Do(cmd.Context(), "GET", api+"/"+url.PathEscape(args[0])+"/instances/"+url.PathEscape(args[1]), nil, &in); err != nil {
				return err
			}
			return out.Print(cmd.OutOrStdout(), in, func(t *cli.Table) {
				t.Row(fmt.Sprintf("instance %d of %s (version %d): %s %s", in.InstanceID, in.WorkflowID, in.Version, in.Status, in.Error))
				t.Row("STEP", "STATUS", "ATTEMPTS", "OUTPUT", "ERROR")
				for _, s := range in.Steps {
					t.Row(s.ID, s.Status, s.Attempts, compactJSON(s.Output, 60), s.Error)
				}
			})
		}
		var wf Workflow
		if err := c.Do(cmd.Context(), "GET", api+"/"+url.PathEscape(args[0]), nil, &wf); err != nil {
			return err
		}
		if out.JSON() {
			return out.Print(cmd.OutOrStdout(), wf, nil)
		}
		b, _ := json.MarshalIndent(wf.Definition, "", "  ")
		fmt.Fprintf(cmd.OutOrStdout(), "workflow %s, version %d of %d\n%s\n", wf.ID, wf.Active, wf.Latest, b)
		return nil
	}
	return cmd
}

func wfInstancesCommand(flags *cli.ClientFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "instances WORKFLOW_ID", Short: "List a workflow's instances, newest first", Args: cobra.ExactArgs(1)}
	out := cli.AddOutputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		c, err := flags.Client()
		if err != nil {
			return err
		}
		var list []Instance
		if err := c.Do(cmd.Context(), "GET", api+"/"+url.PathEscape(args[0])+"/instances", nil, &list); err != nil {
			return err
		}
		return out.Print(cmd.OutOrStdout(), list, func(t *cli.Table) {
			t.Row("INSTANCE", "VERSION", "STATUS", "CREATED", "ERROR")
			for _, in := range list {
				t.Row(in.InstanceID, in.Version, in.Status, in.CreatedAt.Format(time.RFC3339), in.Error)
			}
		})
	}
	return cmd
}

func wfVersionsCommand(flags *cli.ClientFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "versions WORKFLOW_ID", Short: "List a workflow's versions", Args: cobra.ExactArgs(1)}
	out := cli.AddOutputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		c, err := flags.Client()
		if err != nil {
			return err
		}
		var list []Version
		if err := c.Do(cmd.Context(), "GET", api+"/"+url.PathEscape(args[0])+"/versions", nil, &list); err != nil {
			return err
		}
		return out.Print(cmd.OutOrStdout(), list, func(t *cli.Table) {
			t.Row("VERSION", "ACTIVE", "BY", "CREATED")
			for _, v := range list {
				t.Row(v.Version, v.Active, v.CreatedBy, time.UnixMilli(v.CreatedAt).UTC().Format(time.RFC3339))
			}
		})
	}
	return cmd
}

func wfActivateCommand(flags *cli.ClientFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "activate WORKFLOW_ID VERSION", Short: "Make a version the one new instances run (roll back)", Args: cobra.ExactArgs(2)}
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		c, err := flags.Client()
		if err != nil {
			return err
		}
		if err := c.Do(cmd.Context(), "POST", api+"/"+url.PathEscape(args[0])+"/versions/"+url.PathEscape(args[1])+"/activate", nil, nil); err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "activated workflow %s version %s\n", args[0], args[1])
		return nil
	}
	return cmd
}

// parseDay reads a date (2026-12-01, midnight UTC) or an RFC 3339 time.
func parseDay(flag, v string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("--%s %q: want a date (2026-12-01) or an RFC 3339 time", flag, v)
	}
	return t, nil
}

func wfBackfillCommand(flags *cli.ClientFlags) *cobra.Command {
	var from, to string
	var trigger int
	var wait bool
	cmd := &cobra.Command{Use: "backfill WORKFLOW_ID --from DATE --to DATE [--trigger N] [--wait]",
		Short: "Start an instance for every time the workflow's time trigger fires in [from, to); with --wait, follow them to their end",
		Args:  cobra.ExactArgs(1)}
	out := cli.AddOutputFlag(cmd)
	cmd.Flags().StringVar(&from, "from", "", "first date (2026-12-01) or time, inclusive")
	cmd.Flags().StringVar(&to, "to", "", "last date or time, exclusive")
	cmd.Flags().IntVar(&trigger, "trigger", 0, "which time trigger's schedule (default the first)")
	cmd.Flags().BoolVar(&wait, "wait", false, "wait until every instance has ended; exit 0 only if all SUCCEEDED")
	cmd.MarkFlagRequired("from")
	cmd.MarkFlagRequired("to")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		c, err := flags.Client()
		if err != nil {
			return err
		}
		f, err := parseDay("from", from)
		if err != nil {
			return err
		}
		t, err := parseDay("to", to)
		if err != nil {
			return err
		}
		var b Backfill
		base := api + "/" + url.PathEscape(args[0]) + "/backfills"
		if err := c.Do(cmd.Context(), "POST", base, BackfillRequest{From: f, To: t, Trigger: trigger}, &b); err != nil {
			return err
		}
		if wait {
			tick := time.NewTicker(200 * time.Millisecond)
			defer tick.Stop()
			for b.Done < b.Total {
				select {
				case <-cmd.Context().Done():
					return cmd.Context().Err()
				case <-tick.C:
				}
				var now Backfill // a fresh value: decoding merges maps
				if err := c.Do(cmd.Context(), "GET", base+"/"+b.ID, nil, &now); err != nil {
					return err
				}
				b = now
			}
		}
		err = out.Print(cmd.OutOrStdout(), b, func(tb *cli.Table) {
			tb.Row(fmt.Sprintf("started backfill %s of %s: %d instances, %d ended%s", b.ID, b.WorkflowID, b.Total, b.Done, statusCounts(b.Statuses)))
		})
		if err == nil && wait && b.Statuses[InstanceSucceeded] != b.Total {
			return fmt.Errorf("backfill %s: %d of %d instances SUCCEEDED", b.ID, b.Statuses[InstanceSucceeded], b.Total)
		}
		return err
	}
	return cmd
}

func wfSignalCommand(flags *cli.ClientFlags) *cobra.Command {
	var params []string
	cmd := &cobra.Command{Use: "signal NAME [--param NAME=VALUE ...]",
		Short: "Send a signal; prints the instances it started", Args: cobra.ExactArgs(1)}
	out := cli.AddOutputFlag(cmd)
	cmd.Flags().StringArrayVar(&params, "param", nil, "a signal param NAME=VALUE (numbers are sent as numbers); repeatable")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		c, err := flags.Client()
		if err != nil {
			return err
		}
		req := SignalRequest{Name: args[0], Params: map[string]any{}}
		for _, p := range params {
			name, value, ok := strings.Cut(p, "=")
			if !ok || name == "" {
				return fmt.Errorf("--param %q: want NAME=VALUE", p)
			}
			var v any = value
			if json.Valid([]byte(value)) {
				json.Unmarshal([]byte(value), &v)
			}
			req.Params[name] = v
		}
		var res SignalResult
		if err := c.Do(cmd.Context(), "POST", api+"/signals", req, &res); err != nil {
			return err
		}
		return out.Print(cmd.OutOrStdout(), res, func(t *cli.Table) {
			line := fmt.Sprintf("signalled %s (seq %d); started %d instances", args[0], res.Seq, len(res.Started))
			for _, s := range res.Started {
				line += fmt.Sprintf(" %s/%d", s.WorkflowID, s.InstanceID)
			}
			t.Row(line)
		})
	}
	return cmd
}

// wfInstanceActionCommand is `gaffer workflow VERB WORKFLOW_ID
// INSTANCE_ID`, which POSTs to the instance's VERB and prints what it did.
func wfInstanceActionCommand(flags *cli.ClientFlags, verb, done, short string) *cobra.Command {
	cmd := &cobra.Command{Use: verb + " WORKFLOW_ID INSTANCE_ID", Short: short, Args: cobra.ExactArgs(2)}
	out := cli.AddOutputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		c, err := flags.Client()
		if err != nil {
			return err
		}
		var in Instance
		if err := c.Do(cmd.Context(), "POST", api+"/"+url.PathEscape(args[0])+"/instances/"+url.PathEscape(args[1])+"/"+verb, nil, &in); err != nil {
			return err
		}
		return out.Print(cmd.OutOrStdout(), in, func(t *cli.Table) {
			t.Row(fmt.Sprintf("%s workflow %s instance %d: %s", done, in.WorkflowID, in.InstanceID, in.Status))
		})
	}
	return cmd
}

// compactJSON is v as one line of JSON, cut to at most n runes; "" for
// an empty map.
func compactJSON(v map[string]any, n int) string {
	if len(v) == 0 {
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if r := []rune(string(b)); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return string(b)
}

// statusCounts is ": 3 SUCCEEDED, 1 FAILED", statuses in name order, or
// "" when there are none.
func statusCounts(m map[string]int) string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, k := range names {
		parts[i] = fmt.Sprintf("%d %s", m[k], k)
	}
	if len(parts) == 0 {
		return ""
	}
	return ": " + strings.Join(parts, ", ")
}
