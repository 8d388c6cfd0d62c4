package notebook

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gaffer-sre/gaffer/internal/platform/cli"
)

// uploadCommand is `gaffer notebook upload FILE [--name NAME]`: a new
// version of a notebook in the server's store.
func uploadCommand(flags *cli.ClientFlags) *cobra.Command {
	var name string
	cmd := &cobra.Command{Use: "upload FILE.ipynb [--name NAME] [--output json]",
		Short: "Upload a notebook to the server's store: a new version of NAME (default: the file's name without .ipynb)",
		Args:  cobra.ExactArgs(1)}
	out := cli.AddOutputFlag(cmd)
	cmd.Flags().StringVar(&name, "name", "", "the stored notebook's name")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if name == "" {
			name = strings.TrimSuffix(filepath.Base(args[0]), ".ipynb")
		}
		src, err := cli.ReadInput(cmd, args[0])
		if err != nil {
			return err
		}
		c, err := flags.Client()
		if err != nil {
			return err
		}
		var n Notebook
		if err := c.DoRaw(cmd.Context(), "POST", api+"?name="+url.QueryEscape(name), "application/x-ipynb+json", src, &n); err != nil {
			return err
		}
		return out.Print(cmd.OutOrStdout(), n, func(t *cli.Table) {
			t.Row(fmt.Sprintf("uploaded notebook %s: version %d (%s)", n.Name, n.Latest, n.ID))
		})
	}
	return cmd
}

// listCommand is `gaffer notebook list [QUERY]`.
func listCommand(flags *cli.ClientFlags) *cobra.Command {
	var archived bool
	cmd := &cobra.Command{Use: "list [TEXT]", Short: "List the server's notebooks, or those whose name or newest version holds TEXT",
		Args: cobra.MaximumNArgs(1)}
	out := cli.AddOutputFlag(cmd)
	cmd.Flags().BoolVar(&archived, "archived", false, "include archived notebooks")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		c, err := flags.Client()
		if err != nil {
			return err
		}
		q := url.Values{}
		if len(args) == 1 {
			q.Set("q", args[0])
		}
		if archived {
			q.Set("archived", "true")
		}
		var list []Notebook
		if err := c.Do(cmd.Context(), "GET", api+"?"+q.Encode(), nil, &list); err != nil {
			return err
		}
		return out.Print(cmd.OutOrStdout(), list, func(t *cli.Table) {
			t.Row("NAME", "VERSION", "PUBLISHED", "ARCHIVED", "UPDATED")
			for _, n := range list {
				t.Row(n.Name, n.Latest, n.Published, n.Archived, n.UpdatedAt.Format("2006-01-02T15:04:05Z"))
			}
		})
	}
	return cmd
}
