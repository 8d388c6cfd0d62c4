// Command gaffer is the single Gaffer binary: the server (`gaffer serve`), the
// job worker, the host agent, and every client and local tool.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// commandConstructors holds the subcommands. Each file in this package adds
// its own with registerCommand from an init function, so that a new system
// adds a file here and changes no other.
var commandConstructors []func() *cobra.Command

// registerCommand adds a top-level subcommand constructor.
func registerCommand(newCmd func() *cobra.Command) {
	commandConstructors = append(commandConstructors, newCmd)
}

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "gaffer",
		Short:         "Gaffer: metrics, alerting, analysis, automation and security for SRE teams, in one binary",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	for _, newCmd := range commandConstructors {
		root.AddCommand(newCmd())
	}
	return root
}

func main() {
	if err := newRootCommand().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "gaffer:", err)
		os.Exit(1)
	}
}
