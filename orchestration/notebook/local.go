package notebook

import (
	"context"
	"fmt"
	"io"
	"runtime/debug"
	"time"

	"github.com/gaffer-sre/gaffer/orchestration/notebook/jupyter"
	"github.com/gaffer-sre/gaffer/orchestration/notebook/nbformat"
	"github.com/gaffer-sre/gaffer/orchestration/notebook/papermill"
)

// FileRun is a local run of a notebook file, as `gaffer notebook run`
// does it.
type FileRun struct {
	Input, Output string
	Params        papermill.Params
	// Kernel is the kernel spec's name; "" takes the notebook's own.
	Kernel string
	// Warn receives warnings such as a missing parameters cell.
	Warn io.Writer
	// CellTimeout and RunTimeout bound a cell and the run (0: none).
	CellTimeout, RunTimeout time.Duration
	// KernelDirs are searched for the kernel spec (default: Jupyter's).
	KernelDirs []string
	Now        func() time.Time
}

// RunFile runs r.Input on a fresh kernel and writes the executed notebook
// to r.Output after every cell. A cell that raises is reported in the
// Result, not as an error; errors are for a notebook that cannot be read,
// an unknown kernel or one that does not start, and bad parameters.
func RunFile(ctx context.Context, r FileRun) (*papermill.Result, error) {
	nb, err := nbformat.ReadFile(r.Input)
	if err != nil {
		return nil, err
	}
	if r.KernelDirs == nil {
		r.KernelDirs = jupyter.KernelDirs()
	}
	spec, err := jupyter.FindKernelSpec(KernelName(nb, r.Kernel), r.KernelDirs)
	if err != nil {
		return nil, err
	}
	if err := r.Params.Check(); err != nil {
		return nil, err
	}
	k, err := jupyter.Start(ctx, spec, jupyter.Options{Now: r.Now})
	if err != nil {
		return nil, err
	}
	defer k.Kill()
	res, err := papermill.Run(ctx, k, nb, papermill.Options{
		Params: r.Params, InputPath: r.Input, OutputPath: r.Output,
		KernelName: spec.Name, Language: spec.Language, LanguageInfo: k.Info.LanguageInfo,
		CellTimeout: r.CellTimeout, RunTimeout: r.RunTimeout, Now: r.Now, Version: gafferVersion(),
	})
	if err != nil {
		return nil, err
	}
	if res.Warning != "" && r.Warn != nil {
		fmt.Fprintln(r.Warn, "warning:", res.Warning)
	}
	return res, nil
}

// KernelName is the kernel a notebook runs on: the one asked for, else
// its metadata.kernelspec.name, else python3.
func KernelName(nb *nbformat.Notebook, asked string) string {
	if asked != "" {
		return asked
	}
	if ks, ok := nb.Metadata["kernelspec"].(map[string]any); ok {
		if n, ok := ks["name"].(string); ok && n != "" {
			return n
		}
	}
	return "python3"
}

// gafferVersion is what runs record as metadata.papermill.version: Gaffer's
// module version.
func gafferVersion() string {
	v := "(devel)"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		v = bi.Main.Version
	}
	return "gaffer " + v
}
