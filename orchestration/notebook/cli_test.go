package notebook

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gaffer-sre/gaffer/orchestration/notebook/jupyter"
	"github.com/gaffer-sre/gaffer/orchestration/notebook/nbformat"
)

// needKernel skips a test when Debian's python3 kernel is not installed.
func needKernel(t testing.TB) {
	t.Helper()
	spec, err := jupyter.FindKernelSpec("python3", jupyter.KernelDirs())
	if err != nil {
		t.Skipf("no python3 kernel spec (install python3-ipykernel): %v", err)
	}
	if err := exec.Command(spec.Argv[0], "-c", "import ipykernel").Run(); err != nil {
		t.Skipf("python3-ipykernel is not importable by %s: %v", spec.Argv[0], err)
	}
}

// writeNotebook writes a notebook of code cells; a cell whose source
// starts with "#parameters" is tagged parameters.
func writeNotebook(t testing.TB, dir, name string, sources ...string) string {
	t.Helper()
	nb := nbformat.New()
	nb.Metadata["kernelspec"] = map[string]any{"name": "python3", "display_name": "Python 3", "language": "python"}
	for i, src := range sources {
		meta := map[string]any{}
		if strings.HasPrefix(src, "#parameters") {
			meta["tags"] = []any{"parameters"}
		}
		nb.Cells = append(nb.Cells, &nbformat.Cell{ID: "cell" + string(rune('a'+i)), CellType: "code", Source: src, Metadata: meta, Outputs: []*nbformat.Output{}})
	}
	path := filepath.Join(dir, name)
	if err := nb.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// gaffer runs `gaffer notebook ARGS` and returns stdout, stderr and the
// command's error.
func gaffer(args ...string) (string, string, error) {
	cmd := newNotebookCommand()
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	err := cmd.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

const glueCell = `from IPython.display import display
def glue(name, value):
    display({"application/scrapbook.scrap.json+json": {"name": name, "data": value, "encoder": "json", "version": 1}},
            metadata={"scrapbook": {"name": name, "data": True, "display": False}}, raw=True)`

func TestRunCLIContract(t *testing.T) {
	needKernel(t)
	dir := t.TempDir()
	in := writeNotebook(t, dir, "in.ipynb", "#parameters\nregion = 'us-east-1'\nn = 1", glueCell,
		"glue('summary', {'region': region, 'n': n * 2, 'ok': flag})")
	out := filepath.Join(dir, "out.ipynb")
	stdout, stderr, err := gaffer("run", in, out, "-p", "region", "eu-west-1", "-p", "n", "21", "--kernel", "python3", "-p", "flag", "True", "--output", "json")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	var sum map[string]any
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil {
		t.Fatalf("%v: %s", err, stdout)
	}
	if len(sum) != 4 || sum["status"] != "completed" || sum["cells"] != 4.0 || sum["failed_cell"] != nil {
		t.Fatalf("summary %v", sum)
	}
	if d, ok := sum["duration_seconds"].(float64); !ok || d <= 0 {
		t.Fatalf("duration_seconds %v", sum["duration_seconds"])
	}
	stdout, _, err = gaffer("scraps", out, "--output", "json")
	if err != nil {
		t.Fatal(err)
	}
	var scraps map[string]map[string]any
	if err := json.Unmarshal([]byte(stdout), &scraps); err != nil {
		t.Fatalf("%v: %s", err, stdout)
	}
	if s := scraps["summary"]; s["region"] != "eu-west-1" || s["n"] != 42.0 || s["ok"] != true {
		t.Fatalf("scraps %v", scraps)
	}
	// Without --output json the command confirms in one line.
	stdout, _, err = gaffer("run", in, out, "-p", "flag", "False")
	if err != nil || !strings.HasPrefix(stdout, "completed "+in) || !strings.Contains(stdout, "4 cells") {
		t.Fatalf("%q %v", stdout, err)
	}
}

func TestRunCLIFailedCell(t *testing.T) {
	needKernel(t)
	dir := t.TempDir()
	in := writeNotebook(t, dir, "in.ipynb", "x = 1", "raise RuntimeError('disk full')", "print('no')")
	out := filepath.Join(dir, "out.ipynb")
	stdout, _, err := gaffer("run", in, out, "--output", "json")
	if err == nil || !strings.Contains(err.Error(), "RuntimeError: disk full") || !strings.Contains(err.Error(), out) {
		t.Fatalf("err = %v", err)
	}
	var sum map[string]any
	json.Unmarshal([]byte(stdout), &sum)
	if sum["status"] != "failed" || sum["failed_cell"] != 1.0 {
		t.Fatalf("summary %s", stdout)
	}
	if _, err := nbformat.ReadFile(out); err != nil {
		t.Fatalf("the output notebook was not written: %v", err)
	}
}

func TestRunCLIKernelDiesMidRun(t *testing.T) {
	needKernel(t)
	dir := t.TempDir()
	in := writeNotebook(t, dir, "in.ipynb", "x = 1", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)")
	out := filepath.Join(dir, "out.ipynb")
	_, _, err := gaffer("run", in, out)
	if err == nil || !strings.Contains(err.Error(), "cell 1") || !strings.Contains(err.Error(), "SIGKILL") {
		t.Fatalf("err = %v, want the cell and the signal", err)
	}
	if _, err := nbformat.ReadFile(out); err != nil {
		t.Fatalf("the output notebook was not written: %v", err)
	}
}

func TestRunCLIBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.ipynb")
	os.WriteFile(bad, []byte(`{"cells": [`), 0o644)
	invalid := filepath.Join(dir, "invalid.ipynb")
	os.WriteFile(invalid, []byte(`{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "code", "source": "", "metadata": {}, "outputs": []}]}`), 0o644)
	good := writeNotebook(t, dir, "good.ipynb", "1")
	out := filepath.Join(dir, "out.ipynb")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"run", bad, out}, "not valid JSON"},
		{[]string{"run", invalid, out}, "cells[0].execution_count: missing"},
		{[]string{"run", good, out, "--kernel", "nosuch"}, `kernel "nosuch": no such kernel spec`},
		{[]string{"run", good}, "want INPUT.ipynb and OUTPUT.ipynb"},
		{[]string{"run", good, out, "-p", "x"}, "-p takes NAME VALUE"},
		{[]string{"run", good, out, "-p", "not-a-name", "1"}, "not a Python identifier"},
		{[]string{"run", good, out, "--bogus"}, "unknown flag --bogus"},
		{[]string{"run", good, out, "--output", "yaml"}, `"yaml" is not one of`},
		{[]string{"scraps", bad}, "not valid JSON"},
	} {
		_, _, err := gaffer(c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("gaffer notebook %s: %v, want an error containing %q", strings.Join(c.args, " "), err, c.want)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("an output notebook was written for input that could not run")
	}
}

// TestRunCLIParametersYAML: papermill's -y (a YAML or JSON mapping) and
// -f (a file of one) set typed parameters; a -p after them wins; a
// document that is not a mapping is refused naming the flag.
func TestRunCLIParametersYAML(t *testing.T) {
	needKernel(t)
	dir := t.TempDir()
	in := writeNotebook(t, dir, "in.ipynb", "#parameters\nregion = 'us-east-1'\nn = 1\ntags = []", glueCell,
		"glue('got', {'region': region, 'n': n, 'tags': tags, 'extra': extra})")
	out := filepath.Join(dir, "out.ipynb")
	file := filepath.Join(dir, "p.yaml")
	os.WriteFile(file, []byte("extra: {a: 1.5}\n"), 0o600)
	if _, stderr, err := gaffer("run", in, out, "-y", `{"region": "eu-west-1", "n": 7, "tags": ["x", "y"]}`, "-f", file, "-p", "n", "8"); err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	stdout, _, err := gaffer("scraps", out, "--output", "json")
	if err != nil {
		t.Fatal(err)
	}
	var scraps map[string]map[string]any
	if err := json.Unmarshal([]byte(stdout), &scraps); err != nil {
		t.Fatalf("%v: %s", err, stdout)
	}
	g := scraps["got"]
	if g["region"] != "eu-west-1" || g["n"] != 8.0 || fmt.Sprint(g["tags"]) != "[x y]" || fmt.Sprint(g["extra"]) != "map[a:1.5]" {
		t.Fatalf("scraps %v", g)
	}
	if _, stderr, err := gaffer("run", in, out, "-y", "- a list"); err == nil || !strings.Contains(err.Error()+stderr, "-y: want a mapping") {
		t.Fatalf("a list for -y: %v %s", err, stderr)
	}
}
