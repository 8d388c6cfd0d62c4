package failover

import (
	"fmt"
	"net/url"
	"time"

	"github.com/spf13/cobra"

	"github.com/gaffer-sre/gaffer/demand/failover/fleet"
	"github.com/gaffer-sre/gaffer/demand/failover/plan"
	"github.com/gaffer-sre/gaffer/internal/platform/cli"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
)

// foAPI is the root of the failover API the commands call.
const foAPI = "/api/v1/failover"

// newFailoverCommand is `gaffer failover`, the failover system's client;
// the module registers it through its Commands.
func newFailoverCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "failover", Short: "Regional failover: fleets, plans, executions and exercises (see docs/failover.md)"}
	flags := cli.AddClientFlags(cmd)
	cmd.AddCommand(failoverExerciseCommand(flags), failoverImportCommand(flags), failoverFleetsCommand(flags),
		failoverShowCommand(flags), failoverPlanCommand(flags), failoverExecutionsCommand(flags), failoverExecutionCommand(flags),
		failoverDetectCommand(flags), failoverDarkPoolsCommand(flags))
	for _, action := range []string{ActionPause, ActionResume, ActionAbort, ActionRollback} {
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
		var res ValidateResult
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
		var put PutFleetResult
		if err := c.DoRaw(cmd.Context(), "PUT", foAPI+"/fleets/"+url.PathEscape(f.Name), "application/yaml", src, &put); err != nil {
			return err
		}
		note := "new version"
		if !put.Changed {
			note = "unchanged"
		}
		fmt.Fprintf(cmd.OutOrStdout(), "imported fleet %s: version %d (%s), %s, %s, %s\n", put.Name, put.Version, note,
			cli.Plural(put.Regions, "region", ""), cli.Plural(put.Services, "service", ""), cli.Plural(put.Clusters, "cluster", ""))
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
		var page httpapi.Page[FleetInfo]
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
		var sf StoredFleet
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
	var req PlanRequest
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
		var rec PlanRecord
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
			return fmt.Errorf("infeasible: %w", rec.Err())
		}
		if !execute {
			return nil
		}
		var ex Execution
		if err := c.Do(cmd.Context(), "POST", foAPI+"/plans/"+rec.ID+"/execute", nil, &ex); err != nil {
			return err
		}
		if out.JSON() {
			return out.Print(w, ex, nil)
		}
		fmt.Fprintf(w, "started execution %s of plan %s\n", ex.ID, rec.ID)
		return nil
	}
	cmd.Flags().StringVar(&req.Evacuate, "evacuate", "", "region to evacuate")
	cmd.Flags().StringVar(&req.From, "from", "", "region to move part of the traffic from")
	cmd.Flags().Float64Var(&req.Fraction, "fraction", 0, "with --from: the share of its traffic to move (0 to 1)")
	cmd.Flags().BoolVar(&execute, "execute", false, "execute the plan once made")
	return cmd
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
		req := DetectRequest{Record: record}
		if at != "" {
			if req.At, err = time.Parse(time.RFC3339, at); err != nil {
				return fmt.Errorf("at: want an RFC 3339 time, got %q", at)
			}
		}
		var ev []Evidence
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
	cmd := &cobra.Command{Use: "size-darkpools FLEET", Aliases: []string{"darkpools"},
		Short: "Size a fleet's dark pools from the forecast now (a new fleet version)", Args: cobra.ExactArgs(1)}
	out := cli.AddOutputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if err := out.Validate(); err != nil {
			return err
		}
		c, err := flags.Client()
		if err != nil {
			return err
		}
		var res DarkPoolResult
		if err := c.Do(cmd.Context(), "POST", foAPI+"/fleets/"+url.PathEscape(args[0])+"/darkpools", nil, &res); err != nil {
			return err
		}
		if out.JSON() {
			return out.Print(cmd.OutOrStdout(), res, nil)
		}
		fmt.Fprintf(cmd.OutOrStdout(), "sized the dark pools of fleet %s: version %d, %s changed, %s dark\n",
			res.Fleet, res.Version, cli.Plural(res.Changed, "cluster", ""), cli.Plural(res.Dark, "instance", ""))
		return nil
	}
	return cmd
}

func ratio(r *float64) string {
	if r == nil {
		return "-"
	}
	return fmt.Sprintf("%.2f", *r)
}
