package notebook_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"testing"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/orchestration/notebook"
	"github.com/gaffer-sre/gaffer/orchestration/notebook/jupyter"
	"github.com/gaffer-sre/gaffer/orchestration/notebook/nbformat"
	"github.com/gaffer-sre/gaffer/orchestration/workflow"
)

func needKernel(t testing.TB) {
	t.Helper()
	spec, err := jupyter.FindKernelSpec("python3", jupyter.KernelDirs())
	if err != nil {
		t.Skipf("no python3 kernel spec (install python3-ipykernel): %v", err)
	}
	if err := exec.Command(spec.Argv[0], "-c", "import ipykernel").Run(); err != nil {
		t.Skipf("python3-ipykernel is not importable: %v", err)
	}
}

const glue = `from IPython.display import display
def glue(name, value):
    display({"application/scrapbook.scrap.json+json": {"name": name, "data": value, "encoder": "json", "version": 1}},
            metadata={"scrapbook": {"name": name, "data": True, "display": False}}, raw=True)`

// ipynb returns a notebook of code cells; a source starting with
// "#parameters" is tagged parameters.
func ipynb(t testing.TB, sources ...string) string {
	nb := nbformat.New()
	nb.Metadata["kernelspec"] = map[string]any{"name": "python3", "display_name": "Python 3", "language": "python"}
	for i, src := range sources {
		meta := map[string]any{}
		if strings.HasPrefix(src, "#parameters") {
			meta["tags"] = []any{"parameters"}
		}
		nb.Cells = append(nb.Cells, &nbformat.Cell{ID: fmt.Sprintf("c%d", i), CellType: "code", Source: src, Metadata: meta, Outputs: []*nbformat.Output{}})
	}
	data, err := nb.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func upload(t *testing.T, srv *platformtest.Server, tok, name, content string) notebook.Notebook {
	t.Helper()
	resp := srv.DoWith("POST", "/api/v1/notebooks?name="+name, tok, "application/x-ipynb+json", content)
	if resp.Status != http.StatusCreated {
		t.Fatalf("upload %s: %d %s", name, resp.Status, resp.Body)
	}
	var n notebook.Notebook
	resp.JSON(t, &n)
	return n
}

func waitRun(t *testing.T, srv *platformtest.Server, tok string, id int64) notebook.Run {
	t.Helper()
	var r notebook.Run
	platformtest.Eventually(t, fmt.Sprintf("run %d to end", id), func() bool {
		srv.Do("GET", fmt.Sprintf("/api/v1/notebook-runs/%d", id), tok, nil).JSON(t, &r)
		return r.Status != notebook.RunQueued && r.Status != notebook.RunRunning && r.Status != notebook.RunWaiting
	})
	return r
}

func TestNotebookStore(t *testing.T) {
	platformtest.EachBackend(t, func(t *testing.T, b platformtest.Backend) {
		srv := platformtest.Start(t, platformtest.Options{Backend: b})
		tok := srv.AdminToken
		n := upload(t, srv, tok, "daily-report", ipynb(t, "#parameters\nday = '2026-01-01'", "print('revenue for', day)"))
		if n.Latest != 1 || !strings.HasPrefix(n.ID, "nb_") {
			t.Fatalf("first upload: %+v", n)
		}
		if again := upload(t, srv, tok, "daily-report", ipynb(t, "#parameters\nday = '2026-01-01'", "print('revenue for', day)")); again.Latest != 1 {
			t.Fatalf("the same content made version %d", again.Latest)
		}
		if v2 := upload(t, srv, tok, "daily-report", ipynb(t, "#parameters\nday = '2026-01-01'", "print('sales for', day)")); v2.Latest != 2 {
			t.Fatalf("a change made version %d", v2.Latest)
		}
		resp := srv.DoWith("POST", "/api/v1/notebooks?name=bad", tok, "application/json", `{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "sql"}]}`)
		if resp.Status != http.StatusBadRequest || !strings.Contains(string(resp.Body), "cells[0].cell_type") {
			t.Fatalf("bad notebook: %d %s", resp.Status, resp.Body)
		}
		if resp := srv.DoWith("POST", "/api/v1/notebooks?name=../x", tok, "application/json", ipynb(t)); resp.Status != http.StatusBadRequest {
			t.Fatalf("bad name: %d %s", resp.Status, resp.Body)
		}
		var vs []notebook.Version
		srv.Do("GET", "/api/v1/notebooks/daily-report/versions", tok, nil).JSON(t, &vs)
		if len(vs) != 2 || vs[0].Version != 2 {
			t.Fatalf("versions %+v", vs)
		}
		if c := srv.Do("GET", "/api/v1/notebooks/daily-report/versions/1/content", tok, nil); !strings.Contains(string(c.Body), "revenue") {
			t.Fatalf("version 1 content: %s", c.Body)
		}
		var found []notebook.Notebook
		srv.Do("GET", "/api/v1/notebooks?q=sales", tok, nil).JSON(t, &found)
		if len(found) != 1 {
			t.Fatalf("search for sales: %+v", found)
		}
		srv.Do("GET", "/api/v1/notebooks?q=revenue", tok, nil).JSON(t, &found)
		if len(found) != 0 {
			t.Fatalf("search looks past the latest version: %+v", found)
		}
		var clone notebook.Notebook
		if r := srv.Do("POST", "/api/v1/notebooks/daily-report/clone", tok, map[string]any{"name": "weekly-report"}); r.Status != http.StatusCreated {
			t.Fatalf("clone: %d %s", r.Status, r.Body)
		} else {
			r.JSON(t, &clone)
		}
		if clone.ClonedFrom != n.ID || clone.Latest != 1 {
			t.Fatalf("clone %+v", clone)
		}
		if r := srv.Do("POST", "/api/v1/notebooks/daily-report/clone", tok, map[string]any{"name": "weekly-report"}); r.Status != http.StatusConflict {
			t.Fatalf("clone onto an existing name: %d", r.Status)
		}
		srv.Do("POST", "/api/v1/notebooks/weekly-report/archive", tok, nil)
		srv.Do("GET", "/api/v1/notebooks", tok, nil).JSON(t, &found)
		if len(found) != 1 || found[0].Name != "daily-report" {
			t.Fatalf("list shows archived notebooks: %+v", found)
		}
		if r := srv.Do("POST", "/api/v1/notebooks/weekly-report/runs", tok, nil); r.Status != http.StatusConflict {
			t.Fatalf("run of an archived notebook: %d %s", r.Status, r.Body)
		}
		var pub notebook.Notebook
		srv.Do("POST", "/api/v1/notebooks/daily-report/publish", tok, map[string]any{"version": 1}).JSON(t, &pub)
		if pub.Published != 1 {
			t.Fatalf("publish %+v", pub)
		}
		if r := srv.Do("POST", "/api/v1/notebooks/nosuch/publish", tok, nil); r.Status != http.StatusNotFound {
			t.Fatalf("publish nosuch: %d", r.Status)
		}
		if r := srv.Do("POST", "/api/v1/notebooks/daily-report/runs", tok, map[string]any{"kernel": "nosuch"}); r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), "no such kernel spec") {
			t.Fatalf("run on an unknown kernel: %d %s", r.Status, r.Body)
		}
		spec := `{"argv": ["/usr/bin/python3", "-m", "ipykernel_launcher", "-f", "{connection_file}"], "display_name": "Gaffer Python", "language": "python"}`
		if r := srv.Do("POST", "/api/v1/notebook-kernels", tok, map[string]any{"name": "gaffer-py", "spec": jsonRaw(spec)}); r.Status != http.StatusCreated {
			t.Fatalf("install kernel: %d %s", r.Status, r.Body)
		}
		if r := srv.Do("POST", "/api/v1/notebook-kernels", tok, map[string]any{"name": "broken", "spec": jsonRaw(`{"argv": ["x"], "display_name": "x"}`)}); r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), "connection_file") {
			t.Fatalf("install a broken kernel: %d %s", r.Status, r.Body)
		}
		var specs []notebook.KernelSpecInfo
		srv.Do("GET", "/api/v1/notebook-kernels", tok, nil).JSON(t, &specs)
		installed := false
		for _, s := range specs {
			installed = installed || s.Name == "gaffer-py" && s.Installed
		}
		if !installed {
			t.Fatalf("kernel specs %+v", specs)
		}
	})
}

type jsonRaw string

func (j jsonRaw) MarshalJSON() ([]byte, error) { return []byte(j), nil }

func TestNotebookRunsKeepParamsScrapsAndOutput(t *testing.T) {
	needKernel(t)
	platformtest.EachBackend(t, func(t *testing.T, b platformtest.Backend) {
		srv := platformtest.Start(t, platformtest.Options{Backend: b})
		tok := srv.AdminToken
		upload(t, srv, tok, "sum", ipynb(t, "#parameters\nn = 1", glue, "total = sum(range(n + 1))\nprint('total', total)\nglue('total', total)"))
		var run notebook.Run
		if r := srv.Do("POST", "/api/v1/notebooks/sum/runs", tok, map[string]any{"parameters": map[string]any{"n": 10}}); r.Status != http.StatusCreated {
			t.Fatalf("start run: %d %s", r.Status, r.Body)
		} else {
			r.JSON(t, &run)
		}
		run = waitRun(t, srv, tok, run.ID)
		if run.Status != notebook.RunCompleted || fmt.Sprint(run.Scraps["total"]) != "55" || fmt.Sprint(run.Params["n"]) != "10" || run.Cells != 4 {
			t.Fatalf("run %+v", run)
		}
		out := srv.Do("GET", fmt.Sprintf("/api/v1/notebook-runs/%d/output", run.ID), tok, nil)
		nb, err := nbformat.Parse(out.Body)
		if err != nil {
			t.Fatal(err)
		}
		if got := nb.Cells[3].Outputs[0].Text; got != "total 55\n" {
			t.Fatalf("output cell: %q", got)
		}

		upload(t, srv, tok, "broken", ipynb(t, "x = 1", "raise KeyError('gone')"))
		srv.Do("POST", "/api/v1/notebooks/broken/runs", tok, nil).JSON(t, &run)
		run = waitRun(t, srv, tok, run.ID)
		if run.Status != notebook.RunFailed || run.FailedCell == nil || *run.FailedCell != 1 || !strings.Contains(run.Error, "KeyError") {
			t.Fatalf("failed run %+v", run)
		}

		upload(t, srv, tok, "slow", ipynb(t, "import time\nprint('sleeping', flush=True)\ntime.sleep(600)"))
		srv.Do("POST", "/api/v1/notebooks/slow/runs", tok, nil).JSON(t, &run)
		platformtest.Eventually(t, "the slow run to start", func() bool {
			srv.Do("GET", fmt.Sprintf("/api/v1/notebook-runs/%d", run.ID), tok, nil).JSON(t, &run)
			return run.Status == notebook.RunRunning
		})
		if r := srv.Do("POST", fmt.Sprintf("/api/v1/notebook-runs/%d/cancel", run.ID), tok, nil); r.Status != http.StatusOK {
			t.Fatalf("cancel: %d %s", r.Status, r.Body)
		}
		if run = waitRun(t, srv, tok, run.ID); run.Status != notebook.RunCancelled {
			t.Fatalf("cancelled run %+v", run)
		}
		var runs []notebook.Run
		srv.Do("GET", "/api/v1/notebook-runs", tok, nil).JSON(t, &runs)
		if len(runs) != 3 {
			t.Fatalf("%d runs listed, want 3", len(runs))
		}
	})
}

// TestNotebookStepFeedsTheNextStep: a workflow's notebook step runs a
// stored notebook; its glued values are the step's outputs, which the
// next notebook step takes as a parameter.
func TestNotebookStepFeedsTheNextStep(t *testing.T) {
	needKernel(t)
	srv := platformtest.Start(t, platformtest.Options{})
	tok := srv.AdminToken
	upload(t, srv, tok, "produce", ipynb(t, "#parameters\nday = ''", glue, "glue('rows', len(day) * 10)"))
	upload(t, srv, tok, "consume", ipynb(t, "#parameters\nrows = 0", glue, "assert rows == 100, rows\nglue('doubled', rows * 2)"))
	def := `{"properties": {"run_strategy": "parallel"}, "workflow": {"id": "daily-notebooks", "steps": [
	  {"step": {"id": "produce", "type": "notebook", "params": {
	    "notebook": {"value": "produce", "type": "STRING"},
	    "parameters": {"type": "MAP", "value": {"day": {"value": "2026-12-07", "type": "STRING"}}}},
	    "transition": {"successors": {"consume": "true"}}}},
	  {"step": {"id": "consume", "type": "notebook", "params": {
	    "notebook": {"value": "consume", "type": "STRING"},
	    "parameters": {"type": "MAP", "value": {"rows": {"expression": "params.getFromStep('produce', 'rows')", "type": "LONG"}}}}}}]}}`
	if r := srv.DoWith("POST", "/api/v1/workflows?file=wf.json", tok, "application/json", def); r.Status != http.StatusCreated {
		t.Fatalf("apply: %d %s", r.Status, r.Body)
	}
	var in workflow.Instance
	srv.Do("POST", "/api/v1/workflows/daily-notebooks/instances", tok, nil).JSON(t, &in)
	platformtest.Eventually(t, "the instance to end", func() bool {
		srv.Do("GET", fmt.Sprintf("/api/v1/workflows/daily-notebooks/instances/%d", in.InstanceID), tok, nil).JSON(t, &in)
		return in.Status == workflow.InstanceSucceeded || in.Status == workflow.InstanceFailed
	})
	if in.Status != workflow.InstanceSucceeded {
		t.Fatalf("instance %s %s %+v", in.Status, in.Error, in.Steps)
	}
	for _, s := range in.Steps {
		if !strings.HasPrefix(s.Ref, "/notebook-runs/") {
			t.Errorf("step %s ref %q", s.ID, s.Ref)
		}
		if s.ID == "consume" && fmt.Sprint(s.Output["doubled"]) != "200" {
			t.Errorf("consume outputs %v", s.Output)
		}
	}
}

// TestWorkflowDefaultKernel: a workflow's notebook steps that name no
// kernel run on the kernel set as the workflow's default; an unknown
// kernel is refused, naming it.
func TestWorkflowDefaultKernel(t *testing.T) {
	needKernel(t)
	py, err := jupyter.FindKernelSpec("python3", jupyter.KernelDirs())
	if err != nil {
		t.Fatal(err)
	}
	srv := platformtest.Start(t, platformtest.Options{})
	tok := srv.AdminToken
	spec, _ := json.Marshal(map[string]any{"argv": py.Argv, "display_name": "Python (marked)", "language": "python",
		"env": map[string]string{"KERNEL_MARK": "the workflow's default"}})
	if r := srv.Do("POST", "/api/v1/notebook-kernels", tok, map[string]any{"name": "marked", "spec": json.RawMessage(spec)}); r.Status >= 300 {
		t.Fatalf("install: %d %s", r.Status, r.Body)
	}
	if r := srv.Do("PUT", "/api/v1/notebook-kernels/workflow-defaults/marked-wf", tok, map[string]any{"kernel": "nope"}); r.Status != http.StatusBadRequest ||
		!strings.Contains(string(r.Body), `nope`) {
		t.Errorf("an unknown kernel: %d %s", r.Status, r.Body)
	}
	if r := srv.Do("PUT", "/api/v1/notebook-kernels/workflow-defaults/marked-wf", tok, map[string]any{"kernel": "marked"}); r.Status != http.StatusOK {
		t.Fatalf("set default: %d %s", r.Status, r.Body)
	}
	upload(t, srv, tok, "mark", ipynb(t, "#parameters\nx = 1", glue, "import os\nglue('mark', os.environ.get('KERNEL_MARK', 'none'))"))
	def := `{"properties": {"run_strategy": "parallel"}, "workflow": {"id": "marked-wf", "steps": [
	  {"step": {"id": "m", "type": "notebook", "params": {"notebook": {"value": "mark", "type": "STRING"}}}}]}}`
	if r := srv.DoWith("POST", "/api/v1/workflows?file=wf.json", tok, "application/json", def); r.Status != http.StatusCreated {
		t.Fatalf("apply: %d %s", r.Status, r.Body)
	}
	var in workflow.Instance
	srv.Do("POST", "/api/v1/workflows/marked-wf/instances", tok, nil).JSON(t, &in)
	platformtest.Eventually(t, "the instance to end", func() bool {
		srv.Do("GET", fmt.Sprintf("/api/v1/workflows/marked-wf/instances/%d", in.InstanceID), tok, nil).JSON(t, &in)
		return in.Status == workflow.InstanceSucceeded || in.Status == workflow.InstanceFailed
	})
	if in.Status != workflow.InstanceSucceeded || in.Steps[0].Output["mark"] != "the workflow's default" {
		t.Fatalf("instance %s %s, outputs %v: want the marked kernel's variable", in.Status, in.Error, in.Steps[0].Output)
	}
}
