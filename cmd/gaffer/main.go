// Command gaffer is the single Gaffer binary: the server (`gaffer serve`), the
// job worker, the host agent, and every client and local tool.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/gaffer-sre/gaffer/internal/platform/config"
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
	var configFile string
	root := &cobra.Command{
		Use:           "gaffer",
		Short:         "Gaffer: metrics, alerting, analysis, automation and security for SRE teams, in one binary",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if configFile == "" {
				configFile = os.Getenv("GAFFER_CONFIG")
			}
			return config.Apply(cmd.Flags(), configFile)
		},
	}
	root.PersistentFlags().StringVar(&configFile, "config", "", "YAML config file (env GAFFER_CONFIG); flags and GAFFER_* variables override it")
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
