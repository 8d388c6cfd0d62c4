package failover

import (
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gaffer-sre/gaffer/internal/platform/cli"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
)

func failoverExecutionsCommand(flags *cli.ClientFlags) *cobra.Command {
	var status string
	cmd := &cobra.Command{Use: "executions", Short: "List executions, newest first", Args: cobra.NoArgs}
	out := cli.AddOutputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		c, err := flags.Client()
		if err != nil {
			return err
		}
		var page httpapi.Page[Execution]
		if err := c.Do(cmd.Context(), "GET", foAPI+"/executions?status="+url.QueryEscape(status), nil, &page); err != nil {
			return err
		}
		return out.Print(cmd.OutOrStdout(), page.Items, func(t *cli.Table) {
			t.Row("ID", "FLEET", "PROVIDER", "STATUS", "STEP", "CLOCK", "WALL", "STARTED")
			for _, e := range page.Items {
				t.Row(e.ID, e.Fleet, e.Provider, e.Status, e.Step, fmtSeconds(e.ClockSeconds), fmt.Sprintf("%.1fs", e.WallSeconds),
					e.WallStart.Format(time.RFC3339))
			}
		})
	}
	cmd.Flags().StringVar(&status, "status", "", "only executions in this status")
	return cmd
}

func failoverExecutionCommand(flags *cli.ClientFlags) *cobra.Command {
	var wait bool
	cmd := &cobra.Command{Use: "execution ID [--wait]", Short: "Show an execution and its steps; --wait follows it to its end", Args: cobra.ExactArgs(1)}
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
		ex, err := followExecution(cmd, c, id, wait)
		if err != nil {
			return err
		}
		if err := printExecution(cmd, out, ex); err != nil {
			return err
		}
		if wait && ex.Status != ExecSucceeded {
			return fmt.Errorf("execution %s ended %s: %s", ex.ID, ex.Status, ex.Error)
		}
		return nil
	}
	cmd.Flags().BoolVar(&wait, "wait", false, "wait for the execution to end (exit 0 only if it succeeded)")
	return cmd
}

// resolveExecution names the execution ref refers to: its ID or a unique
// prefix of the ID among the recent executions.
func resolveExecution(cmd *cobra.Command, c *cli.Client, ref string) (string, error) {
	r, err := cli.ResolveRecent(cmd.Context(), c, "execution", ref, foAPI+"/executions?limit=500",
		func(e Execution) cli.Ref { return cli.Ref{ID: e.ID} })
	return r.ID, err
}

func followExecution(cmd *cobra.Command, c *cli.Client, id string, wait bool) (*Execution, error) {
	bar := newStepProgress(cmd.ErrOrStderr())
	for {
		var ex Execution
		if err := c.Do(cmd.Context(), "GET", foAPI+"/executions/"+url.PathEscape(id), nil, &ex); err != nil {
			return nil, err
		}
		if !wait || (ex.Status != ExecRunning && ex.Status != ExecRollingBack && ex.Status != ExecPaused) {
			if wait {
				bar.done(&ex)
			}
			return &ex, nil
		}
		bar.show(&ex)
		select {
		case <-cmd.Context().Done():
			return nil, cmd.Context().Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func printExecution(cmd *cobra.Command, out *cli.OutputFlag, ex *Execution) error {
	return out.Print(cmd.OutOrStdout(), ex, func(t *cli.Table) {
		t.Row("EXECUTION", ex.ID, ex.Status, "clock "+fmtSeconds(ex.ClockSeconds), fmt.Sprintf("wall %.1fs", ex.WallSeconds), ex.Error)
		t.Row("#", "STEP", "STATUS", "START", "END", "NOTE")
		for _, s := range ex.Steps {
			start, end := "", ""
			if s.Start != nil {
				start = fmtSeconds(*s.Start)
			}
			if s.End != nil {
				end = fmtSeconds(*s.End)
			}
			note := s.Progress.Note
			if s.Error != "" {
				note = s.Error
			}
			t.Row(s.Seq, s.Name, s.Status, start, end, note)
		}
	})
}

// actionDone is how a confirmation line says what a control action did.
var actionDone = map[string]string{"pause": "paused", "resume": "resumed", "abort": "aborted", "rollback": "rolled back"}

func failoverControlCommand(flags *cli.ClientFlags, action string) *cobra.Command {
	return &cobra.Command{Use: action + " ID", Short: ActionSummaries[action], Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := flags.Client()
			if err != nil {
				return err
			}
			id, err := resolveExecution(cmd, c, args[0])
			if err != nil {
				return err
			}
			var ex Execution
			if err := c.Do(cmd.Context(), "POST", foAPI+"/executions/"+url.PathEscape(id)+"/"+action, nil, &ex); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s execution %s, now %s\n", actionDone[action], ex.ID, ex.Status)
			return nil
		}}
}

func fmtSeconds(s float64) string {
	return (time.Duration(s*1000) * time.Millisecond).Round(time.Second).String()
}

// stepProgress shows an execution's progress on one line of a terminal,
// or a line every ten seconds elsewhere.
type stepProgress struct {
	w     io.Writer
	tty   bool
	last  time.Time
	every time.Duration
}

func newStepProgress(w io.Writer) *stepProgress {
	p := &stepProgress{w: w, every: 10 * time.Second}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.tty, p.every = true, 200*time.Millisecond
		}
	}
	return p
}

func (p *stepProgress) line(ex *Execution) string {
	total, done, current := 0, 0, ""
	for _, s := range ex.Steps {
		if s.Phase != ex.Phase {
			continue
		}
		total++
		if s.Status == StepSucceeded {
			done++
		}
		if s.Seq == ex.Step {
			current = s.Name
		}
	}
	const width = 24
	filled := width * done / max(total, 1)
	return fmt.Sprintf("[%s%s] %s %d/%d %s · %s on the clock · %.1fs", strings.Repeat("#", filled), strings.Repeat(".", width-filled),
		ex.Phase, done, total, current, fmtSeconds(ex.ClockSeconds), ex.WallSeconds)
}

func (p *stepProgress) show(ex *Execution) {
	if time.Since(p.last) < p.every {
		return
	}
	p.last = time.Now()
	if p.tty {
		fmt.Fprintf(p.w, "\r%s\033[K", p.line(ex))
	} else {
		fmt.Fprintln(p.w, p.line(ex))
	}
}

// done draws the final state: off a terminal too, where the last line
// shown could otherwise be the first one ("forward 0/7").
func (p *stepProgress) done(ex *Execution) {
	if p.tty {
		fmt.Fprintf(p.w, "\r%s\033[K\n", p.line(ex))
		return
	}
	fmt.Fprintln(p.w, p.line(ex))
}
