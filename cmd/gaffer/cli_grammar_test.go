package main

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/gaffer-sre/gaffer/internal/platform/auth"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
)

// The CLI grammar (docs/ARCHITECTURE.md, "CLI grammar") checked on every
// command of the tree main builds: `gaffer <noun> <verb> [ARGS]`.

// grammarVerbs are the verbs a command may be named with (the part of its
// name before any '-'); true marks the verbs that change state, whose
// commands must each be exercised by grammarSteps and confirm what they
// did. A new verb is a conscious addition here.
var grammarVerbs = map[string]bool{
	"abort": true, "activate": true, "allow": true, "backfill": true, "apply": true, "approve": true, "bundle": true, "control": true,
	"create": true, "delete": true, "disable": true, "enable": true, "enroll": true, "expire": true,
	"import": true, "issue": true, "kill": true, "pause": true, "promote": true, "publish": true, "redrive": true,
	"refuse": true, "reissue": true, "restart": true, "resume": true, "retire": true, "revoke": true, "rollback": true,
	"rotate": true, "run": true, "scan": true, "set": true, "sign": true, "signal": true, "silence": true, "size": true,
	"start": true, "stop": true, "submit": true, "unblock": true, "update": true, "upload": true,

	"correlate": false, "detect": false, "exercise": false, "export": false, "fetch": false, "get": false,
	"graph": false, "inspect": false, "list": false, "login": false, "plan": false, "query": false,
	"replay": false, "serve": false, "show": false, "tail": false, "validate": false,
}

// processCommands are the commands, by path, that run a process rather
// than address a noun: the server, the job worker, the host agent, the
// binary's version, and what the agent's genie-job action execs.
var processCommands = map[string]bool{"serve": true, "worker": true, "agent": true, "version": true, "genie agent-exec": true}

// nounReads are how the Short text of a command named by a noun starts:
// a bare noun only lists or shows.
var nounReads = []string{"List ", "Show ", "Print "}

// grammarCommand is one command of the tree and its path without "gaffer".
type grammarCommand struct {
	path string
	cmd  *cobra.Command
}

func allCommands(root *cobra.Command) []grammarCommand {
	var out []grammarCommand
	var walk func(c *cobra.Command, path string)
	walk = func(c *cobra.Command, path string) {
		for _, sub := range c.Commands() {
			p := strings.TrimSpace(path + " " + sub.Name())
			out = append(out, grammarCommand{p, sub})
			walk(sub, p)
		}
	}
	walk(root, "")
	return out
}

// verbOf is the verb a command's name starts with ("size" of
// "size-darkpools"), and whether it is one.
func verbOf(c *cobra.Command) (string, bool) {
	v, _, _ := strings.Cut(c.Name(), "-")
	_, ok := grammarVerbs[v]
	return v, ok
}

// listChild is c's `list` subcommand, or nil.
func listChild(c *cobra.Command) *cobra.Command {
	for _, sub := range c.Commands() {
		if sub.Name() == "list" {
			return sub
		}
	}
	return nil
}

// grammarProblems lists how the commands of root break the grammar.
func grammarProblems(root *cobra.Command) []string {
	var problems []string
	bad := func(p, format string, args ...any) {
		problems = append(problems, "gaffer "+p+": "+fmt.Sprintf(format, args...))
	}
	for _, gc := range allCommands(root) {
		c, p := gc.cmd, gc.path
		if strings.TrimSpace(c.Short) == "" {
			bad(p, "no Short text")
		}
		if first, _, _ := strings.Cut(c.Use, " "); first != c.Name() {
			bad(p, "Use %q does not start with the command's name", c.Use)
		}
		if c.Hidden && c.Deprecated == "" {
			bad(p, "hidden but not deprecated: an old spelling belongs in Aliases")
		}
		if !c.Runnable() {
			if !c.HasSubCommands() {
				bad(p, "neither runs nor has subcommands")
			}
			if l := listChild(c); l != nil && (l.Args == nil || l.Args(l, nil) == nil) {
				bad(p, "a bare noun with a list subcommand must list (cli.ListByDefault)")
			}
			continue
		}
		if c.Args == nil {
			bad(p, "no Args validation")
		}
		if _, ok := verbOf(c); ok || processCommands[p] || listChild(c) != nil {
			continue
		}
		reads := false
		for _, prefix := range nounReads {
			reads = reads || strings.HasPrefix(c.Short, prefix)
		}
		if !reads {
			bad(p, "named by a noun (%q is not a verb the grammar knows), yet its Short does not start with List, Show or Print", c.Name())
		}
	}
	return problems
}

// mutatingCommands are the paths of the commands named by a state-changing
// verb.
func mutatingCommands(root *cobra.Command) map[string]bool {
	out := map[string]bool{}
	for _, gc := range allCommands(root) {
		if v, ok := verbOf(gc.cmd); ok && grammarVerbs[v] && gc.cmd.Runnable() {
			out[gc.path] = true
		}
	}
	return out
}

// TestCLIGrammarEveryCommand walks every command main builds and checks
// the grammar's form: names, help, argument validation, bare nouns that
// list, and that every state-changing command is exercised below.
func TestCLIGrammarEveryCommand(t *testing.T) {
	root := newRootCommand()
	for _, p := range grammarProblems(root) {
		t.Error(p)
	}
	covered := map[string]bool{}
	for _, s := range grammarSteps(&grammarFixture{}) {
		c, _, err := root.Find(s.args)
		if err != nil || c == root {
			t.Errorf("step %q names no command: %v", strings.Join(s.args, " "), err)
			continue
		}
		covered[strings.TrimPrefix(c.CommandPath(), "gaffer ")] = true
	}
	var missing []string
	for p := range mutatingCommands(root) {
		if !covered[p] {
			missing = append(missing, p)
		}
	}
	sort.Strings(missing)
	for _, p := range missing {
		t.Errorf("gaffer %s changes state but no step of grammarSteps runs it and checks its confirmation", p)
	}
}

// TestCLIGrammarCatchesABreach makes sure the walk is not vacuous: a
// command added without Args, help or a verb is reported.
func TestCLIGrammarCatchesABreach(t *testing.T) {
	root := newRootCommand()
	noun := &cobra.Command{Use: "widgets", Short: "Widgets"}
	noun.AddCommand(&cobra.Command{Use: "frobnicate ID", RunE: func(*cobra.Command, []string) error { return nil }},
		&cobra.Command{Use: "list", Short: "List widgets", Args: cobra.NoArgs, RunE: func(*cobra.Command, []string) error { return nil }})
	root.AddCommand(noun)
	got := strings.Join(grammarProblems(root), "\n")
	for _, want := range []string{"widgets frobnicate: no Short text", "widgets frobnicate: no Args validation",
		`"frobnicate" is not a verb`, "gaffer widgets: a bare noun with a list subcommand must list"} {
		if !strings.Contains(got, want) {
			t.Errorf("the walk does not report %q; it reports:\n%s", want, got)
		}
	}
}

// gafferRun runs the gaffer command line args as main does and returns
// its standard output, standard error and exit code.
func gafferRun(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	root := newRootCommand()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetIn(strings.NewReader(stdin))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	root.SetContext(ctx)
	code = run(root, args, &errOut)
	return out.String(), errOut.String(), code
}

// errorLineOK checks stderr ends with the one error line of the grammar
// for the command at path, `gaffer: <path>: <why>` without JSON, and
// holds no other error (progress lines may come before it).
func errorLineOK(t *testing.T, path, stderr string) {
	t.Helper()
	lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, "gaffer: "+path+": ") {
		t.Errorf("gaffer %s: error %q does not read `gaffer: %s: <why>`", path, last, path)
	}
	if strings.ContainsAny(last, "{}") {
		t.Errorf("gaffer %s: error %q shows JSON", path, last)
	}
	for _, l := range lines {
		if strings.HasPrefix(l, "Error:") || strings.HasPrefix(l, "Usage:") || strings.HasPrefix(l, "gaffer: ") && l != last {
			t.Errorf("gaffer %s: a second error format on stderr: %q", path, l)
		}
	}
}

// TestCLIGrammarErrorsAreOneLine runs every client command against a
// server with a token that may call nothing, and a table of commands
// naming things that do not exist: every failure is one line in the one
// format, never the server's JSON.
func TestCLIGrammarErrorsAreOneLine(t *testing.T) {
	srv := platformtest.Start(t, platformtest.Options{})
	nobody := srv.Token(auth.AuditReadScope)
	forbidden := 0
	for _, gc := range allCommands(newRootCommand()) {
		c := gc.cmd
		if !c.Runnable() || processCommands[gc.path] || gc.path == "tls fetch-ca" {
			continue // the processes, and fetch-ca (its own --server, https only)
		}
		if c.Flag("server") == nil && c.InheritedFlags().Lookup("server") == nil {
			continue // a local tool
		}
		// As many placeholder arguments as the command needs.
		var args []string
		for c.Args != nil && c.Args(c, args) != nil && len(args) < 5 {
			args = append(args, "nosuch")
		}
		argv := append(append(strings.Fields(gc.path), args...), "--server", srv.URL, "--token", nobody)
		_, stderr, code := gafferRun(t, "", argv...)
		if code == 0 {
			continue // a public route, or nothing to refuse
		}
		if code != 1 {
			t.Errorf("gaffer %s: exit code %d, want 1", gc.path, code)
		}
		errorLineOK(t, gc.path, stderr)
		if strings.Contains(stderr, "(HTTP 403)") {
			forbidden++
		}
	}
	t.Logf("%d commands reached the server and were refused in one line", forbidden)
	if forbidden < 40 {
		t.Errorf("only %d commands reached the server and were refused; the walk is not exercising them", forbidden)
	}

	admin := srv.AdminToken
	// A scope no system defines is refused, naming it and the valid ones.
	_, stderr, code := gafferRun(t, "", "token", "create", "ci", "--scopes", "nosuch:read", "--server", srv.URL, "--token", admin)
	if code != 1 || !strings.Contains(stderr, `scope "nosuch:read" is not defined`) || !strings.Contains(stderr, "events:read") {
		t.Errorf("token create --scopes nosuch:read: exit %d, %q", code, stderr)
	}
	errorLineOK(t, "token create", stderr)

	for _, args := range [][]string{
		{"token", "revoke", "nosuch"},
		{"events", "rules", "get", "nosuch"},
		{"events", "rules", "delete", "nosuch"},
		{"alerts", "rules", "delete", "nosuch"},
		{"alerts", "silence", "expire", "nosuch"},
		{"certs", "revoke", "abcdef0123456789", "--reason", "superseded"},
		{"certs", "show", "abcdef0123456789"},
		{"sshca", "policy", "get", "nosuch"},
		{"sshca", "revoke", "4711"},
		{"failover", "show", "nosuch"},
		{"runbook", "execution", "nosuch"},
		{"runbook", "promote", "nosuch", "--env", "test"},
		{"analyze", "report", "nosuch"},
	} {
		path := strings.Join(args[:len(args)-1], " ")
		if c, _, err := newRootCommand().Find(args); err == nil {
			path = strings.TrimPrefix(c.CommandPath(), "gaffer ")
		}
		_, stderr, code := gafferRun(t, "", append(args, "--server", srv.URL, "--token", admin)...)
		if code != 1 || !strings.Contains(stderr, "not found") && !strings.Contains(stderr, "(HTTP 404)") {
			t.Errorf("gaffer %s: exit %d, %q; want a not-found error", strings.Join(args, " "), code, stderr)
		}
		errorLineOK(t, path, stderr)
	}
}

// confirmation is how a state-changing command says what it did: a line
// starting with a past-tense verb ("revoked token ci (tok_…)").
var confirmation = regexp.MustCompile(`(?m)^(\w+ed|re-ran|redrove|set) \S.*$`)
