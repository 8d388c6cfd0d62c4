package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

// OutputFlag is the --output flag of a command.
type OutputFlag struct {
	Format string
}

// AddOutputFlag registers --output table|json on cmd.
func AddOutputFlag(cmd *cobra.Command) *OutputFlag {
	o := &OutputFlag{}
	cmd.Flags().StringVarP(&o.Format, "output", "o", "table", "output format: table or json")
	return o
}

// Validate checks the format.
func (o *OutputFlag) Validate() error {
	if o.Format != "table" && o.Format != "json" {
		return fmt.Errorf("output: %q is not one of table, json", o.Format)
	}
	return nil
}

// JSON reports whether JSON output was asked for.
func (o *OutputFlag) JSON() bool { return o.Format == "json" }

// Print writes v as indented JSON when asked for, and otherwise calls table
// to write rows.
func (o *OutputFlag) Print(w io.Writer, v any, table func(t *Table)) error {
	if err := o.Validate(); err != nil {
		return err
	}
	if o.JSON() {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	t := &Table{tw: tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)}
	table(t)
	return t.tw.Flush()
}

// Table writes aligned columns.
type Table struct {
	tw *tabwriter.Writer
}

// Row writes one row.
func (t *Table) Row(cells ...any) {
	parts := make([]string, len(cells))
	for i, c := range cells {
		parts[i] = strings.ReplaceAll(fmt.Sprint(c), "\t", " ")
	}
	fmt.Fprintln(t.tw, strings.Join(parts, "\t"))
}
