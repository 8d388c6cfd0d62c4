package main

import (
	"runtime/debug"
	"strings"
	"testing"

	"github.com/gaffer-sre/gaffer/internal/platform/server"
	"github.com/spf13/cobra"
)

func TestGCPercent(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	parse := func(args ...string) *cobra.Command {
		cmd := &cobra.Command{}
		var cfg server.Config
		addServerFlags(cmd, &cfg)
		if err := cmd.Flags().Parse(args); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	t.Setenv("GOGC", "")
	if err := setGCPercent(parse("--gc-percent", "0")); err == nil || !strings.Contains(err.Error(), "gc-percent") {
		t.Fatalf("--gc-percent 0: %v, want an error naming the flag", err)
	}
	if err := setGCPercent(parse("--gc-percent", "70")); err != nil {
		t.Fatal(err)
	}
	if got := debug.SetGCPercent(100); got != 70 {
		t.Errorf("GC percent %d after --gc-percent 70", got)
	}
	// GOGC in the environment wins over the default, not over the flag.
	if err := setGCPercent(parse()); err != nil {
		t.Fatal(err)
	}
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GC percent %d with GOGC set and no flag, want the runtime's 100", got)
	}
}
