package kernelpool

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/orchestration/notebook/jupyter"
	"github.com/gaffer-sre/gaffer/orchestration/notebook/nbformat"
	"github.com/gaffer-sre/gaffer/orchestration/notebook/papermill"
)

func pythonSpec(t testing.TB) *jupyter.KernelSpec {
	t.Helper()
	spec, err := jupyter.FindKernelSpec("python3", jupyter.KernelDirs())
	if err != nil {
		t.Skipf("no python3 kernel spec (install python3-ipykernel): %v", err)
	}
	if err := exec.Command(spec.Argv[0], "-c", "import ipykernel").Run(); err != nil {
		t.Skipf("python3-ipykernel is not importable: %v", err)
	}
	return spec
}

// children returns the PIDs of this process's child processes.
func children(t testing.TB) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skipf("no /proc to count processes: %v", err)
	}
	me := os.Getpid()
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...; comm may hold spaces, so cut at ')'.
		rest := string(stat[strings.LastIndexByte(string(stat), ')')+1:])
		f := strings.Fields(rest)
		if len(f) > 1 {
			if ppid, _ := strconv.Atoi(f[1]); ppid == me {
				out = append(out, pid)
			}
		}
	}
	return out
}

// waitFor polls cond until it holds or a minute passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	if !platformtest.WaitFor(time.Minute, cond) {
		t.Fatalf("timed out waiting for %s", what)
	}
}

func noKernelLeft(t testing.TB, connDir string) {
	t.Helper()
	if kids := children(t); len(kids) > 0 {
		t.Fatalf("kernel processes left running: %v", kids)
	}
	if files, _ := os.ReadDir(connDir); len(files) > 0 {
		t.Fatalf("connection files left behind: %d", len(files))
	}
}

func TestEveryRunGetsAFreshKernel(t *testing.T) {
	spec := pythonSpec(t)
	dir := t.TempDir()
	p := New(Options{Warm: 1, Kernel: jupyter.Options{Dir: dir}})
	p.Warm(spec)
	waitFor(t, "a warm kernel", func() bool { return p.Idle(spec.Name) == 1 })
	ctx := context.Background()
	first, err := p.Get(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := first.Kernel.Execute(ctx, "secret = 42", nil); err != nil {
		t.Fatal(err)
	}
	pid := first.Kernel.Pid()
	if kids := fmt.Sprint(children(t)); !strings.Contains(kids, strconv.Itoa(pid)) {
		t.Fatalf("the leased kernel %d is not among the children %s: the leak check would see nothing", pid, kids)
	}
	first.Release()
	if first.Kernel.Err() == nil {
		t.Fatal("a released kernel is still running")
	}
	second, err := p.Get(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if second.Kernel.Pid() == pid {
		t.Fatal("a kernel was handed out twice")
	}
	r, err := second.Kernel.Execute(ctx, "secret", nil)
	if err != nil || r.Ename != "NameError" {
		t.Fatalf("the second run sees the first run's state: %+v %v", r, err)
	}
	second.Release()
	p.Close()
	noKernelLeft(t, dir)
	if _, err := p.Get(ctx, spec); !errors.Is(err, ErrClosed) {
		t.Fatalf("Get after Close: %v", err)
	}
}

func TestGetWaitsForASlot(t *testing.T) {
	spec := pythonSpec(t)
	dir := t.TempDir()
	p := New(Options{NoWarm: true, MaxRunning: 1, Kernel: jupyter.Options{Dir: dir}})
	defer p.Close()
	l, err := p.Get(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Get(ctx, spec); !errors.Is(err, context.Canceled) {
		t.Fatalf("Get with every slot taken: %v", err)
	}
	l.Release()
	l2, err := p.Get(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	l2.Release()
	p.Close()
	noKernelLeft(t, dir)
}

func TestCloseKillsKernelsStillStarting(t *testing.T) {
	spec := pythonSpec(t)
	dir := t.TempDir()
	p := New(Options{Warm: 3, Kernel: jupyter.Options{Dir: dir}})
	p.Warm(spec)
	p.Close()
	noKernelLeft(t, dir)
}

// sample returns a notebook of n code cells after a parameters cell; the
// last glues nothing but prints the parameter.
func sample(n int) *nbformat.Notebook {
	nb := nbformat.New()
	nb.Cells = append(nb.Cells, &nbformat.Cell{ID: "params", CellType: "code", Source: "x = 0", Metadata: map[string]any{"tags": []any{"parameters"}}})
	for i := 1; i < n; i++ {
		nb.Cells = append(nb.Cells, &nbformat.Cell{ID: fmt.Sprintf("c%d", i), CellType: "code", Source: fmt.Sprintf("y%d = x + %d\nprint(y%d)", i, i, i), Metadata: map[string]any{}})
	}
	return nb
}

// TestFiftyConcurrentRuns runs 50 notebooks at once through a pool on this
// machine's cores: every run completes, each on its own kernel, and no
// kernel process or connection file outlives the pool.
func TestFiftyConcurrentRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 50 kernels")
	}
	spec := pythonSpec(t)
	dir := t.TempDir()
	p := New(Options{Warm: 2, MaxRunning: 4, Kernel: jupyter.Options{Dir: dir}})
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	pids := make(chan int, 50)
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			l, err := p.Get(ctx, spec)
			if err != nil {
				errs <- err
				return
			}
			defer l.Release()
			pids <- l.Kernel.Pid()
			nb := sample(5)
			res, err := papermill.Run(ctx, l.Kernel, nb, papermill.Options{Params: papermill.Params{{Name: "x", Value: int64(i)}}})
			if err != nil {
				errs <- err
				return
			}
			if res.Status != papermill.StatusCompleted {
				errs <- fmt.Errorf("run %d: %w", i, res.Error)
				return
			}
			if got := nb.Cells[len(nb.Cells)-1].Outputs[0].Text; got != fmt.Sprintf("%d\n", i+4) {
				errs <- fmt.Errorf("run %d printed %q", i, got)
			}
		}()
	}
	wg.Wait()
	close(errs)
	close(pids)
	for err := range errs {
		t.Error(err)
	}
	seen := map[int]bool{}
	for pid := range pids {
		if seen[pid] {
			t.Errorf("kernel %d served two runs", pid)
		}
		seen[pid] = true
	}
	p.Close()
	noKernelLeft(t, dir)
}
