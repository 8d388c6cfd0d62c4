package failover

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/gaffer-sre/gaffer/internal/platform/cli"
	"github.com/gaffer-sre/gaffer/internal/platform/server"
)

func failoverExerciseCommand(flags *cli.ClientFlags) *cobra.Command {
	var req ExerciseRequest
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
		var x *Exercise
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
func remoteExercise(cmd *cobra.Command, flags *cli.ClientFlags, req ExerciseRequest) (*Exercise, error) {
	c, err := flags.Client()
	if err != nil {
		return nil, err
	}
	var x Exercise
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
func localExercise(cmd *cobra.Command, req ExerciseRequest) (*Exercise, error) {
	ctx := cmd.Context()
	dir, err := os.MkdirTemp("", "gaffer-exercise-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv, err := server.New(ctx, server.Config{Listen: "127.0.0.1:0", DataDir: dir, Roles: []string{Name}}, log, false)
	if err != nil {
		return nil, err
	}
	if err := srv.Start(ctx); err != nil {
		srv.Shutdown()
		return nil, err
	}
	defer srv.Shutdown()
	svc, _ := srv.Deps().Lookup(Name)
	fo := svc.(*Service)
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

func printReport(cmd *cobra.Command, out *cli.OutputFlag, r *Report) error {
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
