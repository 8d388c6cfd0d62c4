// Command gaffer is the single Gaffer binary: the server (`gaffer serve`), the
// job worker, the host agent, and every client and local tool.
package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gaffer-sre/gaffer/internal/platform"
	"github.com/gaffer-sre/gaffer/internal/platform/config"
)

// commandConstructors holds the platform's own subcommands (serve, worker,
// token, tls, version); each system brings its own through its module's
// Commands.
var commandConstructors []func() *cobra.Command

// registerCommand adds one of the platform's top-level subcommands.
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
	modules, err := platform.Modules()
	if err != nil {
		panic(err) // a cycle among compiled-in modules is a programming error
	}
	for _, m := range modules {
		if m.Commands != nil {
			root.AddCommand(m.Commands()...)
		}
	}
	return root
}

func main() {
	os.Exit(run(newRootCommand(), os.Args[1:], os.Stderr))
}

// run executes the command line args and returns the exit code. A failure
// is one line on stderr in the CLI grammar's one format,
// `gaffer: <command>: <why>`, and exit code 1.
func run(root *cobra.Command, args []string, stderr io.Writer) int {
	root.SetArgs(args)
	cmd, err := root.ExecuteC()
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, errorLine(cmd, err))
	return 1
}

// errorLine formats err of cmd as `gaffer: <what failed>: <why>`, what
// failed being the command path without the binary's name.
func errorLine(cmd *cobra.Command, err error) string {
	what := ""
	if cmd != nil && cmd.HasParent() {
		what = strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" ") + ": "
	}
	return "gaffer: " + what + err.Error()
}
