package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
)

// docPages returns README.md and docs/*.md, relative to the module root.
func docPages(t *testing.T) []string {
	t.Helper()
	pages, err := filepath.Glob("../../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	return append([]string{"../../README.md"}, pages...)
}

func readShellBlocks(t *testing.T, page string) []shellBlock {
	t.Helper()
	md, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := parseShellBlocks(string(md))
	if err != nil {
		t.Fatalf("%s: %v", page, err)
	}
	return blocks
}

// TestDocsCommandsParse checks every `gaffer` command in every shell block
// of the docs, run by TestDocsCommandsRun or not, against the command tree:
// the command exists and takes the flags written.
func TestDocsCommandsParse(t *testing.T) {
	var checked int
	for _, page := range docPages(t) {
		for _, b := range readShellBlocks(t, page) {
			for _, args := range gafferInvocations(b.Text) {
				if err := checkCommandLine(args); err != nil {
					t.Errorf("%s:%d: gaffer %s: %v", strings.TrimPrefix(page, "../../"), b.Line, strings.Join(args, " "), err)
				}
				checked++
			}
		}
	}
	if checked < 30 {
		t.Fatalf("only %d gaffer commands found in the docs; is the parser broken?", checked)
	}
}

// checkCommandLine resolves args in a fresh command tree and parses the
// flags of the command it names.
func checkCommandLine(args []string) error {
	root := newRootCommand()
	cmd, rest, err := root.Find(args)
	if err != nil {
		return err
	}
	if cmd == root {
		return fmt.Errorf("no such command")
	}
	if err := cmd.ParseFlags(rest); err != nil {
		return err
	}
	if cmd.Args != nil {
		positional := cmd.Flags().Args()
		if cmd.DisableFlagParsing {
			positional = rest // as cobra does: the command parses its own flags
		}
		if err := cmd.Args(cmd, positional); err != nil {
			return err
		}
	}
	return nil
}

// TestDocsCommandsRun runs every shell block of README.md and docs/*.md
// that is not marked `<!-- docs-test: skip: reason -->`, as written, in
// order, one bash per block and one working directory per page that looks
// like a checkout. `gaffer` is the binary built from this tree, wrapped so
// that `gaffer serve` listens on a free port (the docs' 127.0.0.1:7070 is
// rewritten to it) and returns once the server is ready; `go run
// ./cmd/gaffer` and `go build -o X ./cmd/gaffer` use the same binary;
// `gaffer ... tail` runs for 5 s; `open URL` fetches the page. A page
// whose runnable blocks start no server gets a plain `gaffer serve` first. A block passes when bash exits 0 under
// `set -euo pipefail`.
func TestDocsCommandsRun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the docs against real servers")
	}
	bin := platformtest.BuildGaffer(t)
	for _, page := range docPages(t) {
		var run []shellBlock
		for _, b := range readShellBlocks(t, page) {
			if b.SkipReason == "" {
				run = append(run, b)
			}
		}
		if len(run) == 0 {
			continue
		}
		name := strings.TrimPrefix(page, "../../")
		t.Run(name, func(t *testing.T) { runDocPage(t, bin, name, run) })
	}
}

func runDocPage(t *testing.T, bin, name string, blocks []shellBlock) {
	work, state, binDir := t.TempDir(), t.TempDir(), t.TempDir()
	linkCheckout(t, work)
	addr := platformtest.FreeAddr(t)
	port := addr[strings.LastIndex(addr, ":")+1:]
	writeWrappers(t, binDir, bin, port, state)

	var groups []int
	t.Cleanup(func() { stopGroups(groups, state) })
	if !startsServer(blocks) {
		// The page's runnable blocks assume a server, as its reader
		// has one from an earlier page or a skipped block.
		blocks = append([]shellBlock{{Line: 0, Text: "gaffer serve\n"}}, blocks...)
	}
	for _, b := range blocks {
		if startsServer([]shellBlock{b}) {
			// The block may start it in the background, and the
			// commands after it wait for it (docs-wait-ready): the
			// earlier server must be gone before they look.
			stopServer(state)
			if err := os.WriteFile(filepath.Join(state, "expect-serve"), nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		script := strings.ReplaceAll(b.Text, "127.0.0.1:7070", "127.0.0.1:"+port)
		out, err := os.CreateTemp(state, "block-*.out")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		cmd := exec.CommandContext(ctx, "bash", "-c", "set -euo pipefail\n"+script)
		cmd.Dir = work
		cmd.Env = append(docsEnv(), "PATH="+binDir+":"+os.Getenv("PATH"), "GAFFER_SERVER=http://127.0.0.1:"+port)
		cmd.Stdout, cmd.Stderr = out, out
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
		if err := cmd.Start(); err != nil {
			cancel()
			t.Fatal(err)
		}
		groups = append(groups, cmd.Process.Pid)
		err = cmd.Wait()
		cancel()
		out.Close()
		if err != nil {
			t.Errorf("%s:%d: the block failed: %v\n--- its output:\n%s\n--- the server's log (end):\n%s",
				name, b.Line, err, tail(readFile(out.Name()), 60), tail(readFile(filepath.Join(state, "serve.log")), 30))
			return
		}
		t.Logf("%s:%d ran", name, b.Line)
	}
}

// startsServer reports whether one of blocks runs `gaffer serve`.
func startsServer(blocks []shellBlock) bool {
	for _, b := range blocks {
		for _, args := range gafferInvocations(b.Text) {
			if len(args) > 0 && args[0] == "serve" {
				return true
			}
		}
	}
	return false
}

// docsEnv is the environment without GAFFER_ variables, so that the
// caller's token or server cannot leak into the docs' commands.
func docsEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GAFFER_") && !strings.HasPrefix(kv, "PATH=") {
			env = append(env, kv)
		}
	}
	return env
}

// linkCheckout makes dir look like the repository's root: a symbolic link
// for each tracked top-level entry, so the docs' relative paths
// (examples/..., demand/failover/testdata/...) resolve, while what the
// commands write (gaffer-data, ./gaffer) stays in dir.
func linkCheckout(t *testing.T, dir string) {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("git", "-C", root, "ls-files").Output()
	if err != nil {
		t.Skipf("docs test needs the git checkout: %v", err)
	}
	seen := map[string]bool{}
	for _, f := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		top := strings.SplitN(f, "/", 2)[0]
		if seen[top] || top == "gaffer" || top == "gaffer-data" {
			continue
		}
		seen[top] = true
		if err := os.Symlink(filepath.Join(root, top), filepath.Join(dir, top)); err != nil {
			t.Fatal(err)
		}
	}
}

// writeWrappers writes the `gaffer` and `go` commands the docs' blocks run.
func writeWrappers(t *testing.T, binDir, bin, port, state string) {
	t.Helper()
	wait := `#!/bin/bash
# Waits until the server a block started is ready (see TestDocsCommandsRun).
port=` + port + `; state=` + strconv.Quote(state) + `
[ -f "$state/expect-serve" ] || exit 0
for _ in $(seq 600); do [ -f "$state/serving" ] && break; sleep 0.1; done
for _ in $(seq 1200); do
  if curl -fs -o /dev/null "http://127.0.0.1:$port/readyz" && [ -s gaffer-data/admin.token ]; then exit 0; fi
  kill -0 "$(cat "$state/serving")" 2>/dev/null || { echo "docs test: gaffer serve exited; see its log" >&2; exit 1; }
  sleep 0.1
done
echo "docs test: gaffer serve not ready after 120 s" >&2; exit 1
`
	gaffer := `#!/bin/bash
# gaffer, as the docs test runs it (see TestDocsCommandsRun).
real=` + strconv.Quote(bin) + `; port=` + port + `; state=` + strconv.Quote(state) + `
case "$1" in
serve)
  if [ -f "$state/serving" ]; then
    pid=$(cat "$state/serving"); rm "$state/serving"; kill "$pid" 2>/dev/null
    for _ in $(seq 600); do kill -0 "$pid" 2>/dev/null && [ "$(cut -d' ' -f3 /proc/$pid/stat 2>/dev/null)" != Z ] || break; sleep 0.1; done
  fi
  "$real" "$@" --listen "127.0.0.1:$port" --nats-listen 127.0.0.1:0 >>"$state/serve.log" 2>&1 &
  echo $! >"$state/serving"
  exec docs-wait-ready ;;
esac
docs-wait-ready || exit 1
if [ "${2:-}" = tail ]; then
  timeout 5 "$real" "$@"; rc=$?; [ $rc = 124 ] && exit 0; exit $rc
fi
exec "$real" "$@"
`
	goCmd := `#!/bin/bash
# go, as the docs test runs it: only what the docs do with ./cmd/gaffer.
case "$1 ${2:-} ${3:-} ${4:-}" in
"run ./cmd/gaffer"*) shift 2; exec gaffer "$@" ;;
"build -o "*" ./cmd/gaffer") cp "$(command -v gaffer)" "$3"; exit 0 ;;
"test "*) echo "docs test: not running go test inside the docs test" >&2; exit 0 ;;
esac
echo "docs test: go $* is not something the docs test can run" >&2; exit 1
`
	open := `#!/bin/bash
# open, as the docs test runs it: the page must answer, with the login
# form if it wants a session, as a browser would show it.
docs-wait-ready || exit 1
body=$(mktemp); code=$(curl -sS -o "$body" -w '%{http_code}' "$1") || exit 1
if [ "$code" -lt 400 ] || { [ "$code" = 401 ] && grep -q login-form "$body"; }; then exit 0; fi
echo "open $1: HTTP $code" >&2; exit 1
`
	for name, text := range map[string]string{"gaffer": gaffer, "go": goCmd, "open": open, "docs-wait-ready": wait} {
		if err := os.WriteFile(filepath.Join(binDir, name), []byte(text), 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

// stopServer stops the server a block started, if any, and forgets it.
func stopServer(state string) {
	file := filepath.Join(state, "serving")
	b, err := os.ReadFile(file)
	if err != nil {
		return
	}
	if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
		syscall.Kill(pid, syscall.SIGTERM)
		if !platformtest.WaitFor(60*time.Second, func() bool { return !processRunning(pid) }) {
			syscall.Kill(pid, syscall.SIGKILL)
			platformtest.WaitFor(30*time.Second, func() bool { return !processRunning(pid) })
		}
	}
	os.Remove(file)
}

// stopGroups kills what the blocks left running (servers, agents) and
// waits for the server to exit, so its data directory can be removed.
func stopGroups(groups []int, state string) {
	for _, g := range groups {
		syscall.Kill(-g, syscall.SIGKILL)
	}
	if b, err := os.ReadFile(filepath.Join(state, "serving")); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			syscall.Kill(pid, syscall.SIGKILL)
			platformtest.WaitFor(30*time.Second, func() bool { return !processRunning(pid) })
		}
	}
}

// processRunning reports whether pid exists and is not a zombie (one
// nobody reaps, when the test runs as PID 1's child in a container).
func processRunning(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return syscall.Kill(pid, 0) == nil
	}
	i := strings.LastIndexByte(string(stat), ')')
	return i < 0 || i+2 >= len(stat) || stat[i+2] != 'Z'
}

func readFile(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
