package alerting

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gaffer-sre/gaffer/internal/platform/cli"
)

// newAlertsCommand returns `gaffer alerts`: rules, alerts and silences.
func newAlertsCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "alerts", Short: "Alerting: alerts (listed by default), rules and silences (see docs/alerting.md)"}
	flags := cli.AddClientFlags(cmd)
	list := alertsListCommand(flags)
	cmd.AddCommand(alertsRulesCommand(flags), list, alertsSilenceCommand(flags))
	cli.ListByDefault(cmd, list)
	return cmd
}

func alertsRulesCommand(flags *cli.ClientFlags) *cobra.Command {
	out := &cli.OutputFlag{}
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "List alert rules with their state (subcommands: get, apply, import, delete)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := flags.Client()
			if err != nil {
				return err
			}
			var rules []RuleView
			if err := c.Do(cmd.Context(), "GET", "/api/v1/alerting/rules", nil, &rules); err != nil {
				return err
			}
			return out.Print(cmd.OutOrStdout(), rules, func(t *cli.Table) {
				t.Row("STATE", "NAME", "GROUP", "ENGINE", "EVERY", "FOR", "FIRING", "PENDING", "ID")
				for _, r := range rules {
					t.Row(r.State, r.Spec.Name, r.Spec.Group, r.Engine, r.Spec.Interval, r.Spec.For, r.Firing, r.Pending, r.ID)
				}
			})
		},
	}
	cmd.Flags().StringVarP(&out.Format, "output", "o", "table", "output format: table or json")
	cmd.AddCommand(alertsRuleGetCommand(flags), alertsApplyCommand(flags), alertsImportCommand(flags), alertsDeleteCommand(flags))
	return cmd
}

func alertsRuleGetCommand(flags *cli.ClientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "get NAME|ID",
		Short: "Show a rule, its state and its health as JSON",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := flags.Client()
			if err != nil {
				return err
			}
			ref, err := resolveRule(cmd, c, args[0])
			if err != nil {
				return err
			}
			var r RuleView
			if err := c.Do(cmd.Context(), "GET", "/api/v1/alerting/rules/"+url.PathEscape(ref.ID), nil, &r); err != nil {
				return err
			}
			return (&cli.OutputFlag{Format: "json"}).Print(cmd.OutOrStdout(), r, nil)
		},
	}
}

// resolveRule finds the rule ref names as `gaffer alerts rules` shows
// them: its ID, its name, GROUP/NAME, or a unique prefix of its ID.
func resolveRule(cmd *cobra.Command, c *cli.Client, ref string) (cli.Ref, error) {
	var rules []RuleView
	if err := c.Do(cmd.Context(), "GET", "/api/v1/alerting/rules", nil, &rules); err != nil {
		return cli.Ref{}, err
	}
	refs := make([]cli.Ref, 0, 2*len(rules))
	for _, r := range rules {
		full := r.Spec.Group + "/" + r.Spec.Name
		refs = append(refs, cli.Ref{ID: r.ID, Name: r.Spec.Name}, cli.Ref{ID: r.ID, Name: full})
	}
	found, err := cli.Resolve("alert rule", ref, refs)
	if err != nil {
		return found, err
	}
	for _, r := range rules {
		if r.ID == found.ID {
			found.Name = r.Spec.Group + "/" + r.Spec.Name
		}
	}
	return found, nil
}

// alertRuleFileCommand posts a rule file to path.
func alertRuleFileCommand(flags *cli.ClientFlags, use, short, long, path string) *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use: use, Short: short, Long: long, Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := flags.Client()
			if err != nil {
				return err
			}
			body, err := cli.ReadInput(cmd, file)
			if err != nil {
				return err
			}
			var res ImportResult
			if err := c.DoRaw(cmd.Context(), "POST", path, "application/yaml", body, &res); err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			for _, r := range res.Rules {
				verb := "updated"
				if r.Created {
					verb = "created"
				}
				fmt.Fprintf(w, "%s %s/%s (%s)\n", verb, r.Group, r.Name, r.ID)
			}
			if len(res.Rules) == 0 {
				fmt.Fprintln(w, "no alerting rules in the file: nothing changed")
			}
			for _, n := range res.Notes {
				fmt.Fprintln(w, "note:", n)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "-", "rule file, or - for standard input")
	return cmd
}

func alertsApplyCommand(flags *cli.ClientFlags) *cobra.Command {
	return alertRuleFileCommand(flags, "apply -f FILE", "Create or update the rules of a Gaffer rule file (YAML or JSON)",
		`Create or update rules from a file holding one rule, a list, or {rules: [...]}.
A rule is matched to a stored one by its group and name. Every rule is checked
(expressions by their parsers) before any is saved.`, "/api/v1/alerting/rules/apply")
}

func alertsImportCommand(flags *cli.ClientFlags) *cobra.Command {
	return alertRuleFileCommand(flags, "import -f FILE", "Import the alerting rules of a Prometheus rule file",
		`Import a Prometheus rule file (YAML rule groups), checked by Prometheus's own
parser: every alerting rule keeps its expression, for, keep_firing_for, labels
and annotations, and its group's interval. Importing the file again updates the
same rules. Recording rules are skipped.`, "/api/v1/alerting/rules/import")
}

func alertsDeleteCommand(flags *cli.ClientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "delete NAME|ID",
		Short: "Delete a rule and its alerts",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := flags.Client()
			if err != nil {
				return err
			}
			ref, err := resolveRule(cmd, c, args[0])
			if err != nil {
				return err
			}
			if err := c.Do(cmd.Context(), "DELETE", "/api/v1/alerting/rules/"+url.PathEscape(ref.ID), nil, nil); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "deleted alert rule %s\n", ref)
			return nil
		},
	}
}

func alertsListCommand(flags *cli.ClientFlags) *cobra.Command {
	var state string
	out := &cli.OutputFlag{}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List pending, firing and recently resolved alerts",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := flags.Client()
			if err != nil {
				return err
			}
			var alerts []Alert
			q := url.Values{}
			if state != "" {
				q.Set("state", state)
			}
			if err := c.Do(cmd.Context(), "GET", "/api/v1/alerting/alerts?"+q.Encode(), nil, &alerts); err != nil {
				return err
			}
			return out.Print(cmd.OutOrStdout(), alerts, func(t *cli.Table) {
				t.Row("STATE", "ALERT", "LABELS", "VALUE", "SINCE", "MUTED", "REPORT")
				for _, a := range alerts {
					muted := ""
					if len(a.Silenced) > 0 {
						muted = "silenced"
					}
					if len(a.InhibitedBy) > 0 {
						muted = strings.TrimPrefix(muted+",inhibited", ",")
					}
					t.Row(a.State, a.Labels["alertname"], labelList(a.Labels), fmt.Sprintf("%.4g", a.Value),
						a.ActiveAt.Format(time.RFC3339), muted, a.ReportID)
				}
			})
		},
	}
	cmd.Flags().StringVar(&state, "state", "", "pending, firing or resolved")
	cmd.Flags().StringVarP(&out.Format, "output", "o", "table", "output format: table or json")
	return cmd
}

// labelList formats labels but alertname as k=v, sorted.
func labelList(ls map[string]string) string {
	var out []string
	for k, v := range ls {
		if k != "alertname" {
			out = append(out, k+"="+v)
		}
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

func alertsSilenceCommand(flags *cli.ClientFlags) *cobra.Command {
	var duration, comment string
	cmd := &cobra.Command{
		Use:   "silence [MATCHER...]",
		Short: "Silence the alerts the matchers select; without matchers, list silences (subcommands: list, expire)",
		Long: `Silence the alerts the matchers select, as amtool does: each argument is a
matcher such as alertname=ApiLatencyHigh, region=~"eu-.*" or severity!=info.
The alerts still show; their notifications stop until the silence ends.`,
		Example: `  gaffer alerts silence alertname=ApiLatencyHigh region=eu-west-1 --duration 2h --comment "failover drill"`,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := flags.Client()
			if err != nil {
				return err
			}
			var sil Silence
			spec := SilenceSpec{Matchers: args, Duration: duration, Comment: comment}
			if err := c.Do(cmd.Context(), "POST", "/api/v1/alerting/silences", spec, &sil); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "created silence %s: %s until %s\n", sil.ID, strings.Join(sil.Matchers, ", "), sil.EndsAt.Format(time.RFC3339))
			return nil
		},
	}
	cmd.Flags().StringVarP(&duration, "duration", "d", "1h", "how long the silence lasts")
	cmd.Flags().StringVarP(&comment, "comment", "c", "", "why (required)")
	list := alertsSilencesListCommand(flags)
	cmd.AddCommand(list, alertsSilenceExpireCommand(flags))
	// Without matchers, the bare noun lists silences, as the grammar asks.
	create := cmd.RunE
	cli.ListByDefault(cmd, list)
	listRun := cmd.RunE
	cmd.Args = cobra.ArbitraryArgs
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return listRun(cmd, args)
		}
		return create(cmd, args)
	}
	return cmd
}

func alertsSilencesListCommand(flags *cli.ClientFlags) *cobra.Command {
	var all bool
	out := &cli.OutputFlag{}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List silences (--all: expired ones too)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := flags.Client()
			if err != nil {
				return err
			}
			var sils []Silence
			if err := c.Do(cmd.Context(), "GET", fmt.Sprintf("/api/v1/alerting/silences?all=%t", all), nil, &sils); err != nil {
				return err
			}
			return out.Print(cmd.OutOrStdout(), sils, func(t *cli.Table) {
				t.Row("ID", "STATE", "MATCHERS", "ENDS", "BY", "COMMENT")
				for _, s := range sils {
					t.Row(s.ID, s.State, strings.Join(s.Matchers, ","), s.EndsAt.Format(time.RFC3339), s.CreatedBy, s.Comment)
				}
			})
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "include expired silences")
	cmd.Flags().StringVarP(&out.Format, "output", "o", "table", "output format: table or json")
	return cmd
}

func alertsSilenceExpireCommand(flags *cli.ClientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "expire ID",
		Short: "End a silence now",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := flags.Client()
			if err != nil {
				return err
			}
			ref, err := cli.ResolveRecent(cmd.Context(), c, "silence", args[0], "/api/v1/alerting/silences",
				func(s Silence) cli.Ref { return cli.Ref{ID: s.ID} })
			if err != nil {
				return err
			}
			var sil Silence
			if err := c.Do(cmd.Context(), "DELETE", "/api/v1/alerting/silences/"+url.PathEscape(ref.ID), nil, &sil); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "expired silence %s (%s), now %s\n", sil.ID, strings.Join(sil.Matchers, ", "), sil.State)
			return nil
		},
	}
}
