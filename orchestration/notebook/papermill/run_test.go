package papermill

import (
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/orchestration/notebook/jupyter"
	"github.com/gaffer-sre/gaffer/orchestration/notebook/nbformat"
	"github.com/gaffer-sre/gaffer/orchestration/notebook/scrapbook"
)

func startKernel(t *testing.T) *jupyter.Kernel {
	t.Helper()
	spec, err := jupyter.FindKernelSpec("python3", jupyter.KernelDirs())
	if err != nil {
		t.Skipf("no python3 kernel spec (install python3-ipykernel): %v", err)
	}
	if err := exec.Command(spec.Argv[0], "-c", "import ipykernel").Run(); err != nil {
		t.Skipf("python3-ipykernel is not importable: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	k, err := jupyter.Start(ctx, spec, jupyter.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.Kill)
	return k
}

// fixedClock advances one second per reading, so durations are known.
func fixedClock() func() time.Time {
	t := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	return func() time.Time { t = t.Add(time.Second); return t }
}

const glue = `from IPython.display import display
def glue(name, value, encoder="json"):
    mime = "application/scrapbook.scrap.%s+json" % encoder
    display({mime: {"name": name, "data": value, "encoder": encoder, "version": 1}},
            metadata={"scrapbook": {"name": name, "data": True, "display": False}}, raw=True)
`

func TestRunRecordsWhatPapermillRecords(t *testing.T) {
	k := startKernel(t)
	out := filepath.Join(t.TempDir(), "out.ipynb")
	nb := notebook(
		&nbformat.Cell{CellType: "markdown", Source: "# Report", Metadata: map[string]any{}},
		code("alpha = 0.1\nrows = 1", "parameters"),
		code(glue),
		code("print('alpha is', alpha)\nprint('rows', rows)"),
		code("glue('total', alpha * rows)\nglue('label', 'r' + str(rows), encoder='text')\nrows * 2"),
	)
	var seen []string
	res, err := Run(context.Background(), k, nb, Options{
		Params: Params{{"alpha", 0.5}, {"rows", int64(3)}}, InputPath: "in.ipynb", OutputPath: out,
		KernelName: "python3", Language: "python", Now: fixedClock(), Version: "test",
		Progress: func(_ *nbformat.Notebook, cell int, status string) { seen = append(seen, status) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != StatusCompleted || res.FailedCell != -1 || res.Cells != 6 || res.Warning != "" {
		t.Fatalf("result %+v", res)
	}
	if len(seen) != 12 {
		t.Fatalf("progress calls %v", seen)
	}
	written, err := nbformat.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	cells := written.Cells
	if !cells[2].HasTag(TagInjectedParameters) || *cells[2].ExecutionCount != 2 {
		t.Fatalf("injected cell %+v", cells[2])
	}
	if got := cells[4].Outputs[0].Text; got != "alpha is 0.5\nrows 3\n" {
		t.Fatalf("stream output %q", got)
	}
	if r := cells[5].Outputs[len(cells[5].Outputs)-1]; r.OutputType != "execute_result" || r.Data["text/plain"] != "6" {
		t.Fatalf("execute_result %+v", r)
	}
	pm := written.Metadata["papermill"].(map[string]any)
	for _, f := range []string{"parameters", "environment_variables", "version", "input_path", "output_path", "start_time", "end_time", "duration", "exception"} {
		if _, ok := pm[f]; !ok {
			t.Errorf("metadata.papermill lacks %s", f)
		}
	}
	if pm["exception"] != false || pm["start_time"] != "2026-03-01T12:00:01.000000" || pm["input_path"] != "in.ipynb" {
		t.Errorf("metadata.papermill %v", pm)
	}
	cm := cells[4].Metadata["papermill"].(map[string]any)
	if cm["status"] != StatusCompleted || cm["exception"] != false || cm["duration"] == nil {
		t.Errorf("cell metadata %v", cm)
	}
	vals, err := scrapbook.Values(written)
	if err != nil {
		t.Fatal(err)
	}
	if len(vals) != 2 || vals["label"] != "r3" {
		t.Fatalf("scraps %v", vals)
	}
	if f, _ := vals["total"].(interface{ String() string }); f == nil || f.String() != "1.5" {
		t.Fatalf("scrap total = %#v", vals["total"])
	}
}

func TestRunStopsAtTheFirstException(t *testing.T) {
	k := startKernel(t)
	out := filepath.Join(t.TempDir(), "out.ipynb")
	nb := notebook(code("x = 1"), code("print('before')\nraise ValueError('bad input')"), code("print('never')"))
	res, err := Run(context.Background(), k, nb, Options{OutputPath: out, Now: fixedClock()})
	if err != nil {
		t.Fatal(err)
	}
	var ce *CellError
	if res.Status != StatusFailed || res.FailedCell != 1 || !errors.As(res.Error, &ce) || ce.Ename != "ValueError" {
		t.Fatalf("result %+v", res)
	}
	written, err := nbformat.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	c := written.Cells
	if len(c) != 5 || !c[0].HasTag(TagErrorMarker) || !c[2].HasTag(TagErrorMarker) || !strings.Contains(c[0].Source, "In [2]") {
		t.Fatalf("marker cells missing: %d cells, first %q", len(c), c[0].Source)
	}
	failed := c[3]
	if failed.Metadata["papermill"].(map[string]any)["status"] != StatusFailed || failed.Outputs[len(failed.Outputs)-1].Ename != "ValueError" {
		t.Fatalf("failed cell %+v", failed)
	}
	if last := c[4]; len(last.Outputs) != 0 || last.Metadata["papermill"].(map[string]any)["status"] != StatusPending {
		t.Fatalf("cell after the failure ran: %+v", last)
	}
	if written.Metadata["papermill"].(map[string]any)["exception"] != true {
		t.Fatal("notebook metadata does not record the exception")
	}
}

func TestSysExitZeroIsNotAFailure(t *testing.T) {
	k := startKernel(t)
	res, err := Run(context.Background(), k, notebook(code("import sys\nsys.exit(0)")), Options{Now: fixedClock()})
	if err != nil || res.Status != StatusCompleted {
		t.Fatalf("%+v %v", res, err)
	}
}

func TestCellTimeoutInterruptsTheKernel(t *testing.T) {
	k := startKernel(t)
	nb := notebook(code("import time\ntime.sleep(600)"), code("print('after')"))
	res, err := Run(context.Background(), k, nb, Options{CellTimeout: 500 * time.Millisecond, Now: fixedClock()})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != StatusFailed || res.FailedCell != 0 || !strings.Contains(res.Error.Error(), "did not finish within 500ms") {
		t.Fatalf("result %+v", res)
	}
	if k.Err() != nil {
		t.Fatalf("the interrupt killed the kernel: %v", k.Err())
	}
	if o := nb.Cells[2].Outputs[len(nb.Cells[2].Outputs)-1]; o.Ename != "CellTimeoutError" {
		t.Fatalf("timed out cell's last output %+v", o)
	}
}

func TestKernelDeathIsReportedWithCellAndSignal(t *testing.T) {
	k := startKernel(t)
	nb := notebook(code("x = 1"), code("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"), code("x"))
	out := filepath.Join(t.TempDir(), "out.ipynb")
	res, err := Run(context.Background(), k, nb, Options{OutputPath: out, Now: fixedClock()})
	if err != nil {
		t.Fatal(err)
	}
	if res.FailedCell != 1 || res.KernelDied == nil || res.KernelDied.Signal != "SIGKILL" || !strings.Contains(res.Error.Error(), "cell 1") {
		t.Fatalf("result %+v (%v)", res, res.Error)
	}
	if _, err := nbformat.ReadFile(out); err != nil {
		t.Fatal(err)
	}
}

func TestOutputBeyondTheLimitIsTruncatedWithANote(t *testing.T) {
	k := startKernel(t)
	nb := notebook(code("for i in range(200):\n    print('x' * 99)"), code("print('small')"))
	res, err := Run(context.Background(), k, nb, Options{OutputLimit: 1000, Now: fixedClock()})
	if err != nil || res.Status != StatusCompleted {
		t.Fatalf("%+v %v", res, err)
	}
	outs := nb.Cells[0].Outputs
	if len(outs) != 2 || len(outs[0].Text) != 1000 || !strings.Contains(outs[1].Text, "output truncated: 19000 more bytes") {
		t.Fatalf("outputs: %d, first %d bytes, note %+v", len(outs), len(outs[0].Text), outs[len(outs)-1])
	}
	if nb.Cells[1].Outputs[0].Text != "small\n" {
		t.Fatal("the limit is per cell")
	}
}

func TestOutputNotebookIsWrittenAsCellsFinish(t *testing.T) {
	k := startKernel(t)
	out := filepath.Join(t.TempDir(), "out.ipynb")
	nb := notebook(code("print('one')"), code("print('two')"))
	var partial *nbformat.Notebook
	_, err := Run(context.Background(), k, nb, Options{OutputPath: out, Now: fixedClock(),
		Progress: func(_ *nbformat.Notebook, cell int, status string) {
			if cell == 1 && status == StatusRunning {
				partial, _ = nbformat.ReadFile(out)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if partial == nil || len(partial.Cells[0].Outputs) != 1 || len(partial.Cells[1].Outputs) != 0 {
		t.Fatalf("while cell 1 ran the file held %+v", partial)
	}
}

func TestGateStopsTheRunBeforeACell(t *testing.T) {
	k := startKernel(t)
	nb := notebook(code("print('checked')"), code("print('dangerous')", "approval"), code("print('after')"))
	var asked []int
	res, err := Run(context.Background(), k, nb, Options{Now: fixedClock(), Gate: func(_ context.Context, nb *nbformat.Notebook, cell int) error {
		if nb.Cells[cell].HasTag("approval") {
			asked = append(asked, cell)
			return errors.New("refused by bob")
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(asked) != 1 || asked[0] != 1 || res.FailedCell != 1 || !strings.Contains(res.Error.Error(), "refused by bob") {
		t.Fatalf("asked %v, result %+v", asked, res)
	}
	gated := nb.Cells[3] // after the two marker cells
	if len(gated.Outputs) != 1 || gated.Outputs[0].Ename != "RunStopped" || gated.ExecutionCount != nil {
		t.Fatalf("the gated cell ran or was not marked: %+v", gated)
	}
}
