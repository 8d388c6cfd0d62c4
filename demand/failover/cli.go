package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gaffer-sre/gaffer/demand/failover"
	"github.com/gaffer-sre/gaffer/demand/failover/fleet"
	"github.com/gaffer-sre/gaffer/demand/failover/plan"
	"github.com/gaffer-sre/gaffer/internal/platform/cli"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
	"github.com/gaffer-sre/gaffer/internal/platform/server"
)

func init() { registerCommand(newFailoverCommand) }

const foAPI = "/api/v1/failover"

func newFailoverCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "failover", Short: "Regional failover: fleets, plans, executions and exercises (see docs/failover.md)"}
	flags := cli.AddClientFlags(cmd)
	cmd.AddCommand(failoverExerciseCommand(flags), failoverImportCommand(flags), failoverFleetsCommand(flags),
		failoverShowCommand(flags), failoverPlanCommand(flags), failoverExecutionsCommand(flags), failoverExecutionCommand(flags),
		failoverDetectCommand(flags), failoverDarkPoolsCommand(flags))
	for _, action := range []string{failover.ActionPause, failover.ActionResume, failover.ActionAbort, failover.ActionRollback} {
		cmd.AddCommand(failoverControlCommand(flags, action))
	}
	return cmd
}

func failoverImportCommand(flags *cli.ClientFlags) *cobra.Command {
	var file string
	var validate bool
	cmd := &cobra.Command{Use: "import -f FILE", Short: "Create or update a fleet from YAML (--validate only checks it)", Args: cobra.NoArgs}
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		c, err := flags.Client()
		if err != nil {
			return err
		}
		src, err := cli.ReadInput(cmd, file)
		if err != nil {
			return err
		}
		var res failover.ValidateResult
		if err := c.DoRaw(cmd.Context(), "POST", foAPI+"/fleets/validate", "application/yaml", src, &res); err != nil {
			return err
		}
		if !res.Valid {
			for _, p := range res.Problems {
				fmt.Fprintf(cmd.OutOrStdout(), "%s:%d:%d: %s: %s\n", file, p.Line, p.Column, p.Path, p.Message)
			}
			return fmt.Errorf("%s: %d problems", file, len(res.Problems))
		}
		if validate {
			fmt.Fprintf(cmd.OutOrStdout(), "%s: valid\n", file)
			return nil
		}
		f, err := fleet.Parse(src)
		if err != nil {
			return err
		}
		var put failover.PutFleetResult
		if err := c.DoRaw(cmd.Context(), "PUT", foAPI+"/fleets/"+url.PathEscape(f.Name), "application/yaml", src, &put); err != nil {
			return err
		}
		note := "new version"
		if !put.Changed {
			note = "unchanged"
		}
		fmt.Fprintf(cmd.OutOrStdout(), "fleet %s version %d (%s): %d regions, %d services, %d clusters\n", put.Name, put.Version, note,
			put.Regions, put.Services, put.Clusters)
		return nil
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "fleet YAML file (- for standard input)")
	cmd.Flags().BoolVar(&validate, "validate", false, "only check the file")
	cmd.MarkFlagRequired("file")
	return cmd
}

func failoverFleetsCommand(flags *cli.ClientFlags) *cobra.Command {
	var kind string
	cmd := &cobra.Command{Use: "fleets", Short: "List fleets", Args: cobra.NoArgs}
	out := cli.AddOutputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		c, err := flags.Client()
		if err != nil {
			return err
		}
		var page httpapi.Page[failover.FleetInfo]
		if err := c.Do(cmd.Context(), "GET", foAPI+"/fleets?kind="+url.QueryEscape(kind), nil, &page); err != nil {
			return err
		}
		return out.Print(cmd.OutOrStdout(), page.Items, func(t *cli.Table) {
			t.Row("NAME", "VERSION", "KIND", "REGIONS", "SERVICES", "CLUSTERS", "PROVIDER", "UPDATED")
			for _, f := range page.Items {
				t.Row(f.Name, f.Version, f.Kind, f.Regions, f.Services, f.Clusters, f.Provider, f.UpdatedAt.Format(time.RFC3339))
			}
		})
	}
	cmd.Flags().StringVar(&kind, "kind", "", "fleet (default), exercise or all")
	return cmd
}

func failoverShowCommand(flags *cli.ClientFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "show FLEET", Short: "Print a fleet as YAML (--output json for JSON with its version)", Args: cobra.ExactArgs(1)}
	out := cli.AddOutputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		c, err := flags.Client()
		if err != nil {
			return err
		}
		var sf failover.StoredFleet
		if err := c.Do(cmd.Context(), "GET", foAPI+"/fleets/"+url.PathEscape(args[0]), nil, &sf); err != nil {
			return err
		}
		if out.JSON() {
			return out.Print(cmd.OutOrStdout(), sf, nil)
		}
		y, err := sf.Spec.YAML()
		if err != nil {
			return err
		}
		_, err = cmd.OutOrStdout().Write(y)
		return err
	}
	return cmd
}

func failoverPlanCommand(flags *cli.ClientFlags) *cobra.Command {
	var req failover.PlanRequest
	var execute bool
	cmd := &cobra.Command{Use: "plan FLEET (--evacuate REGION | --from REGION --fraction F) [--execute]",
		Short: "Plan an evacuation or a partial shift and print its preview as a diff", Args: cobra.ExactArgs(1)}
	out := cli.AddOutputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if err := out.Validate(); err != nil {
			return err
		}
		c, err := flags.Client()
		if err != nil {
			return err
		}
		req.Fleet = args[0]
		var rec failover.PlanRecord
		if err := c.Do(cmd.Context(), "POST", foAPI+"/plans", req, &rec); err != nil {
			return err
		}
		if out.JSON() && !execute {
			return out.Print(cmd.OutOrStdout(), rec, nil)
		}
		w := cmd.OutOrStdout()
		if !out.JSON() {
			fmt.Fprintf(w, "plan %s: move %.0f%% of %s's traffic: %s", rec.ID, rec.Fraction*100, rec.Region, rec.Status)
			if rec.Method != "" {
				fmt.Fprintf(w, " (%s), estimated %v, planned in %.3fs", rec.Method, rec.Estimate, rec.PlanSeconds)
			}
			fmt.Fprintln(w)
			fmt.Fprint(w, rec.DiffText())
			for i, s := range rec.Steps {
				fmt.Fprintf(w, "step %d: %s\n", i+1, s.Name)
			}
			for _, s := range rec.Warnings {
				fmt.Fprintf(w, "warning: %s\n", s)
			}
		}
		if rec.Status != plan.Feasible {
			return fmt.Errorf("infeasible: %v", rec.Err())
		}
		if !execute {
			return nil
		}
		var ex failover.Execution
		if err := c.Do(cmd.Context(), "POST", foAPI+"/plans/"+rec.ID+"/execute", nil, &ex); err != nil {
			return err
		}
		if out.JSON() {
			return out.Print(w, ex, nil)
		}
		fmt.Fprintf(w, "execution %s started\n", ex.ID)
		return nil
	}
	cmd.Flags().StringVar(&req.Evacuate, "evacuate", "", "region to evacuate")
	cmd.Flags().StringVar(&req.From, "from", "", "region to move part of the traffic from")
	cmd.Flags().Float64Var(&req.Fraction, "fraction", 0, "with --from: the share of its traffic to move (0 to 1)")
	cmd.Flags().BoolVar(&execute, "execute", false, "execute the plan once made")
	return cmd
}

func failoverExecutionsCommand(flags *cli.ClientFlags) *cobra.Command {
	var status string
	cmd := &cobra.Command{Use: "executions", Short: "List executions, newest first", Args: cobra.NoArgs}
	out := cli.AddOutputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		c, err := flags.Client()
		if err != nil {
			return err
		}
		var page httpapi.Page[failover.Execution]
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
		ex, err := followExecution(cmd, c, args[0], wait)
		if err != nil {
			return err
		}
		if err := printExecution(cmd, out, ex); err != nil {
			return err
		}
		if wait && ex.Status != failover.ExecSucceeded {
			return fmt.Errorf("execution %s ended %s: %s", ex.ID, ex.Status, ex.Error)
		}
		return nil
	}
	cmd.Flags().BoolVar(&wait, "wait", false, "wait for the execution to end (exit 0 only if it succeeded)")
	return cmd
}

func followExecution(cmd *cobra.Command, c *cli.Client, id string, wait bool) (*failover.Execution, error) {
	bar := newStepProgress(cmd.ErrOrStderr())
	for {
		var ex failover.Execution
		if err := c.Do(cmd.Context(), "GET", foAPI+"/executions/"+url.PathEscape(id), nil, &ex); err != nil {
			return nil, err
		}
		if !wait || (ex.Status != failover.ExecRunning && ex.Status != failover.ExecRollingBack && ex.Status != failover.ExecPaused) {
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

func printExecution(cmd *cobra.Command, out *cli.OutputFlag, ex *failover.Execution) error {
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

func failoverControlCommand(flags *cli.ClientFlags, action string) *cobra.Command {
	return &cobra.Command{Use: action + " ID", Short: failover.ActionSummaries[action], Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := flags.Client()
			if err != nil {
				return err
			}
			var ex failover.Execution
			if err := c.Do(cmd.Context(), "POST", foAPI+"/executions/"+url.PathEscape(args[0])+"/"+action, nil, &ex); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "execution %s: %s\n", ex.ID, ex.Status)
			return nil
		}}
}

func failoverDetectCommand(flags *cli.ClientFlags) *cobra.Command {
	var at string
	var record bool
	cmd := &cobra.Command{Use: "detect FLEET [--at TIME] [--record]", Short: "Check a fleet's regions for a drop in demand", Args: cobra.ExactArgs(1)}
	out := cli.AddOutputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		c, err := flags.Client()
		if err != nil {
			return err
		}
		req := failover.DetectRequest{Record: record}
		if at != "" {
			if req.At, err = time.Parse(time.RFC3339, at); err != nil {
				return fmt.Errorf("at: want an RFC 3339 time, got %q", at)
			}
		}
		var ev []failover.Evidence
		if err := c.Do(cmd.Context(), "POST", foAPI+"/fleets/"+url.PathEscape(args[0])+"/detect", req, &ev); err != nil {
			return err
		}
		return out.Print(cmd.OutOrStdout(), ev, func(t *cli.Table) {
			t.Row("REGION", "CURRENT", "VS YESTERDAY", "VS LAST WEEK", "RECOMMEND", "REASON")
			for _, e := range ev {
				t.Row(e.Region, fmt.Sprintf("%.4g", e.Current), ratio(e.RatioYesterday), ratio(e.RatioLastWeek), e.Recommend, e.Reason)
			}
		})
	}
	cmd.Flags().StringVar(&at, "at", "", "check at this time (RFC 3339; default now)")
	cmd.Flags().BoolVar(&record, "record", false, "record recommendations and publish gaffer.failover.recommended")
	return cmd
}

func failoverDarkPoolsCommand(flags *cli.ClientFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "darkpools FLEET", Short: "Size a fleet's dark pools from the forecast now", Args: cobra.ExactArgs(1)}
	out := cli.AddOutputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		c, err := flags.Client()
		if err != nil {
			return err
		}
		var res failover.DarkPoolResult
		if err := c.Do(cmd.Context(), "POST", foAPI+"/fleets/"+url.PathEscape(args[0])+"/darkpools", nil, &res); err != nil {
			return err
		}
		return out.Print(cmd.OutOrStdout(), res, func(t *cli.Table) {
			t.Row("FLEET", "VERSION", "CLUSTERS CHANGED", "DARK INSTANCES")
			t.Row(res.Fleet, res.Version, res.Changed, res.Dark)
		})
	}
	return cmd
}

func ratio(r *float64) string {
	if r == nil {
		return "-"
	}
	return fmt.Sprintf("%.2f", *r)
}

func fmtSeconds(s float64) string {
	return (time.Duration(s*1000) * time.Millisecond).Round(time.Second).String()
}

func failoverExerciseCommand(flags *cli.ClientFlags) *cobra.Command {
	var req failover.ExerciseRequest
	var noDark, local bool
	cmd := &cobra.Command{Use: "exercise --regions N --clusters M --evacuate REGION --provider simulator",
		Short: "Evacuate a region of a generated fleet on the simulator and print the timeline (--local: in this process)",
		Args:  cobra.NoArgs}
	out := cli.AddOutputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if err := out.Validate(); err != nil {
			return err
		}
		dark := !noDark
		req.Dark = &dark
		var x *failover.Exercise
		var err error
		if local {
			x, err = localExercise(cmd, req)
		} else {
			x, err = remoteExercise(cmd, flags, req)
		}
		if err != nil {
			return err
		}
		if err := printReport(cmd, out, x.Report); err != nil {
			return err
		}
		if !x.Report.Evacuated {
			return fmt.Errorf("exercise %s: %s was not evacuated: %s", x.ID, x.Params.Evacuate, x.Report.Error)
		}
		return nil
	}
	f := cmd.Flags()
	f.IntVar(&req.Regions, "regions", 3, "regions of the generated fleet")
	f.IntVar(&req.Clusters, "clusters", 500, "clusters per region (one per service)")
	f.StringVar(&req.Evacuate, "evacuate", "us-east-1", "region to evacuate")
	f.StringVar(&req.Provider, "provider", "simulator", "provider (exercises run on the simulator)")
	f.Uint64Var(&req.Seed, "seed", 1, "seed of the generated fleet and of the simulator's draws")
	f.IntVar(&req.Increments, "increments", 0, "traffic shift increments (default the planner's, 4)")
	f.BoolVar(&noDark, "no-dark", false, "no dark capacity: every instance the evacuation needs is started cold")
	f.BoolVar(&local, "local", false, "run in this process on a temporary database instead of on --server")
	f.Float64Var(&req.Simulator.LaunchFailureRate, "launch-failure-rate", 0, "simulator: share of launched instances that fail to start")
	f.Float64Var(&req.Simulator.CallErrorRate, "call-error-rate", 0, "simulator: share of provider calls that fail (transient)")
	f.Float64Var(&req.Simulator.SlowCallRate, "slow-call-rate", 0, "simulator: share of provider calls that take effect a minute late")
	f.IntVar(&req.Simulator.RegionInstanceLimit, "region-instance-limit", 0, "simulator: most instances per region (0: none)")
	return cmd
}

// remoteExercise runs an exercise on the server and waits for its report.
func remoteExercise(cmd *cobra.Command, flags *cli.ClientFlags, req failover.ExerciseRequest) (*failover.Exercise, error) {
	c, err := flags.Client()
	if err != nil {
		return nil, err
	}
	var x failover.Exercise
	if err := c.Do(cmd.Context(), "POST", foAPI+"/exercises", req, &x); err != nil {
		return nil, err
	}
	if x.ExecutionID != "" {
		if _, err := followExecution(cmd, c, x.ExecutionID, true); err != nil {
			return nil, err
		}
	}
	for {
		if err := c.Do(cmd.Context(), "GET", foAPI+"/exercises/"+url.PathEscape(x.ID), nil, &x); err != nil {
			return nil, err
		}
		if x.Report != nil {
			return &x, nil
		}
		select {
		case <-cmd.Context().Done():
			return nil, cmd.Context().Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// localExercise runs an exercise in this process: a server with only the
// failover system on a temporary data directory, reached through its Go
// API; its job queue works at the default poll interval.
func localExercise(cmd *cobra.Command, req failover.ExerciseRequest) (*failover.Exercise, error) {
	ctx := cmd.Context()
	dir, err := os.MkdirTemp("", "gaffer-exercise-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv, err := server.New(ctx, server.Config{Listen: "127.0.0.1:0", DataDir: dir, Roles: []string{failover.Name}}, log, false)
	if err != nil {
		return nil, err
	}
	if err := srv.Start(ctx); err != nil {
		srv.Shutdown()
		return nil, err
	}
	defer srv.Shutdown()
	svc, _ := srv.Deps().Lookup(failover.Name)
	fo := svc.(*failover.Service)
	x, err := fo.StartExercise(ctx, req, "cli")
	if err != nil {
		return nil, err
	}
	bar := newStepProgress(cmd.ErrOrStderr())
	for x.Report == nil {
		if x.ExecutionID != "" {
			if ex, err := fo.Execution(ctx, x.ExecutionID); err == nil {
				bar.show(ex)
			}
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if x, err = fo.Exercise(ctx, x.ID); err != nil {
			return nil, err
		}
	}
	if x.ExecutionID != "" {
		if ex, err := fo.Execution(ctx, x.ExecutionID); err == nil {
			bar.done(ex)
		}
	}
	return x, nil
}

func printReport(cmd *cobra.Command, out *cli.OutputFlag, r *failover.Report) error {
	w := cmd.OutOrStdout()
	if out.JSON() {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	return out.Print(w, r, func(t *cli.Table) {
		t.Row("PHASE", "STEP", "START", "END", "DURATION", "STATUS")
		for _, p := range r.Timeline {
			t.Row(p.Phase, p.Name, fmtSeconds(p.Start), fmtSeconds(p.End), fmtSeconds(p.End-p.Start), p.Status)
		}
		t.Row("")
		t.Row("evacuated", r.Evacuated)
		t.Row("simulated", fmtSeconds(r.SimulatedSeconds))
		t.Row("planning", fmt.Sprintf("%.3fs", r.PlanSeconds))
		t.Row("control plane", fmt.Sprintf("%.2fs", r.ControlPlaneSeconds))
		t.Row("goal", r.Goal.Description, r.Goal.Met)
		p := r.Parameters
		t.Row("fleet", fmt.Sprintf("%d regions × %d clusters, %d instances, %d dark, seed %d", p.Regions, p.ClustersPerRegion,
			r.Fleet.Instances, r.Fleet.DarkInstances, p.Seed))
		s := p.Simulator
		t.Row("simulator", fmt.Sprintf("provision %v–%v, start-up up to %v (±%.0f%%), ungate %v–%v, edge %v, DNS %v, warm-up %v at %.0f%%",
			s.ProvisionMin, s.ProvisionMax, s.StartupMax, s.StartupJitter*100, s.UngateMin, s.UngateMax, s.EdgePropagation,
			s.DNSPropagation, s.Warmup, s.ColdCapacity*100))
		t.Row("faults", fmt.Sprintf("launch failures %.0f%%, call errors %.0f%%, slow calls %.0f%% (+%v), region limit %d",
			s.LaunchFailureRate*100, s.CallErrorRate*100, s.SlowCallRate*100, s.SlowCall, s.RegionInstanceLimit))
		for _, sf := range r.Shortfalls {
			t.Row("shortfall", sf.Service, fmt.Sprintf("%.4g %s", sf.Shortfall, sf.Unit), sf.Reason)
		}
	})
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

func (p *stepProgress) line(ex *failover.Execution) string {
	total, done, current := 0, 0, ""
	for _, s := range ex.Steps {
		if s.Phase != ex.Phase {
			continue
		}
		total++
		if s.Status == failover.StepSucceeded {
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

func (p *stepProgress) show(ex *failover.Execution) {
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

func (p *stepProgress) done(ex *failover.Execution) {
	if p.tty {
		fmt.Fprintf(p.w, "\r%s\033[K\n", p.line(ex))
	}
}
