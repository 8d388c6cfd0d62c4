package remediation

import (
	"fmt"
	"net/url"

	"github.com/spf13/cobra"

	"github.com/gaffer-sre/gaffer/internal/platform/cli"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
)

// newRunbookCommand is `gaffer runbook`, the remediation system's client;
// the module registers it, and `gaffer agent`, through its Commands.
func newRunbookCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "runbook", Short: "Runbooks: list (the default), apply, run, follow executions, promote and roll back (see docs/remediation.md)"}
	flags := cli.AddClientFlags(cmd)
	cmd.AddCommand(runbookApplyCommand(flags, false), runbookApplyCommand(flags, true), runbookListCommand(flags),
		runbookRunCommand(flags), runbookExecutionsCommand(flags), runbookExecutionCommand(flags),
		runbookEnvCommand(flags, "promote"), runbookEnvCommand(flags, "rollback"), runbookControlCommand(flags),
		runbookApproveCommand(flags))
	for _, sub := range cmd.Commands() {
		if sub.Name() == "list" {
			cli.ListByDefault(cmd, sub)
		}
	}
	return cmd
}

// rbAPI is the root of the remediation API the commands call.
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
				var res ValidateResult
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
				return fmt.Errorf("%s: %s", file, cli.Plural(len(res.Problems), "problem", ""))
			}
			var res ApplyResult
			path := rbAPI + "/runbooks"
			if message != "" {
				path += "?message=" + url.QueryEscape(message)
			}
			if err := c.DoRaw(cmd.Context(), "POST", path, "application/yaml", src, &res); err != nil {
				return err
			}
			if res.Unchanged {
				fmt.Fprintf(cmd.OutOrStdout(), "applied runbook %s: unchanged, still version %d\n", res.Runbook, res.Version)
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "applied runbook %s: version %d, deployed to dev\n", res.Runbook, res.Version)
			}
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
		var page httpapi.Page[RunbookInfo]
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

// pastTense is how a confirmation line says what a verb did.
var pastTense = map[string]string{"promote": "promoted", "rollback": "rolled back"}

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
			var d Deployment
			if err := c.Do(cmd.Context(), "POST", rbAPI+"/runbooks/"+url.PathEscape(args[0])+"/"+op,
				PromoteRequest{Env: env, Version: version}, &d); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s runbook %s: %s now runs version %d (%s)\n", pastTense[op], args[0], d.Env, d.Version, d.Note)
			return nil
		}}
	cmd.Flags().StringVar(&env, "env", "", "dev, test or prod")
	cmd.MarkFlagRequired("env")
	if op == "promote" {
		cmd.Flags().IntVar(&version, "version", 0, "deploy this version instead")
	}
	return cmd
}
