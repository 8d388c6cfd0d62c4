package main

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gaffer-sre/gaffer/internal/platform"
	"github.com/gaffer-sre/gaffer/internal/platform/cli"
	"github.com/gaffer-sre/gaffer/internal/platform/console"
)

func init() { registerCommand(newOverviewCommand) }

func newOverviewCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "overview",
		Short: "Show what fires now, what changed, what expires, how busy the systems are, and what is unhealthy",
		Long: "Prints the overview page: each system's panels that the token may read (a system's panels need its\n" +
			"read scope), in the page's order, firing alerts first, and any component that is not healthy.",
		Args: cobra.NoArgs,
	}
	flags := cli.AddClientFlags(cmd)
	out := cli.AddOutputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if err := out.Validate(); err != nil {
			return err
		}
		c, err := flags.Client()
		if err != nil {
			return err
		}
		var ov console.Overview
		if err := c.Do(cmd.Context(), "GET", "/api/v1/overview", nil, &ov); err != nil {
			return err
		}
		if out.JSON() {
			return out.Print(cmd.OutOrStdout(), ov, nil)
		}
		return printOverview(cmd.OutOrStdout(), ov)
	}
	return cmd
}

// printOverview writes the overview as text: unhealthy components, then
// each section's panels with their figures and rows.
func printOverview(w io.Writer, ov console.Overview) error {
	var unhealthy []string
	for name, status := range ov.Health {
		if status != "ok" {
			unhealthy = append(unhealthy, name+": "+status)
		}
	}
	sort.Strings(unhealthy)
	if len(unhealthy) > 0 {
		fmt.Fprintln(w, "UNHEALTHY")
		for _, u := range unhealthy {
			fmt.Fprintln(w, "  "+u)
		}
	} else {
		fmt.Fprintf(w, "all %d components healthy\n", len(ov.Health))
	}
	section := platform.Section(-1)
	for _, p := range ov.Panels {
		if p.Section != section {
			section = p.Section
			fmt.Fprintf(w, "\n%s\n", strings.ToUpper(section.String()))
		}
		if err := printPanel(w, p); err != nil {
			return err
		}
	}
	return nil
}

func printPanel(w io.Writer, p platform.Panel) error {
	head := "  " + p.Title
	if p.Error != "" {
		fmt.Fprintf(w, "%s: unavailable: %s\n", head, p.Error)
		return nil
	}
	var figures []string
	for _, f := range p.Figures {
		figures = append(figures, f.Value+" "+f.Label)
	}
	if len(figures) > 0 {
		head += ": " + strings.Join(figures, "; ")
	}
	fmt.Fprintln(w, head)
	if len(p.Rows) == 0 {
		if p.Empty != "" {
			fmt.Fprintf(w, "    (%s)\n", p.Empty)
		}
		return nil
	}
	return (&cli.OutputFlag{Format: "table"}).Print(w, nil, func(t *cli.Table) {
		for _, r := range p.Rows {
			when := ""
			if !r.Time.IsZero() {
				when = r.Time.UTC().Format("2006-01-02 15:04")
			}
			text := r.Text
			if r.Who != "" {
				text += " (" + r.Who + ")"
			}
			t.Row("   ", when, r.Status, text)
		}
		if p.More > 0 {
			t.Row("   ", "", "", fmt.Sprintf("… and %d more", p.More))
		}
	})
}
