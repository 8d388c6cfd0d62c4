package jupyter

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// pythonSpec returns Debian's ipykernel spec, or skips the test.
func pythonSpec(t testing.TB) *KernelSpec {
	t.Helper()
	spec, err := FindKernelSpec("python3", KernelDirs())
	if err != nil {
		t.Skipf("no python3 kernel spec (install python3-ipykernel): %v", err)
	}
	if err := exec.Command(spec.Argv[0], "-c", "import ipykernel").Run(); err != nil {
		t.Skipf("python3-ipykernel is not importable by %s: %v", spec.Argv[0], err)
	}
	return spec
}

func startKernel(t *testing.T) *Kernel {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	k, err := Start(ctx, pythonSpec(t), Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.Kill)
	return k
}

type collected struct {
	types    []string
	contents []string
}

func (c *collected) add(msgType string, content json.RawMessage) {
	c.types = append(c.types, msgType)
	c.contents = append(c.contents, string(content))
}

func TestExecuteOnRealKernel(t *testing.T) {
	k := startKernel(t)
	if k.Info.ProtocolVersion == "" || !strings.Contains(string(k.Info.LanguageInfo), "python") {
		t.Fatalf("kernel info %+v", k.Info)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out collected
	r, err := k.Execute(ctx, "x = 6 * 7\nprint('hello')\nx", out.add)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != "ok" || r.ExecutionCount != 1 {
		t.Fatalf("reply %+v", r)
	}
	if strings.Join(out.types, ",") != "stream,execute_result" || !strings.Contains(out.contents[0], "hello") || !strings.Contains(out.contents[1], `"42"`) {
		t.Fatalf("outputs %v %v", out.types, out.contents)
	}
	var bad collected
	r, err = k.Execute(ctx, "1/0", bad.add)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != "error" || r.Ename != "ZeroDivisionError" || len(bad.types) != 1 || bad.types[0] != "error" {
		t.Fatalf("reply %+v outputs %v", r, bad.types)
	}
	if err := k.Ping(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestInterruptStopsACell(t *testing.T) {
	k := startKernel(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	done := make(chan *ExecuteReply, 1)
	started := make(chan struct{})
	go func() {
		r, err := k.Execute(ctx, "import time\nprint('start', flush=True)\ntime.sleep(600)", func(t string, _ json.RawMessage) {
			if t == "stream" {
				close(started)
			}
		})
		if err != nil {
			t.Error(err)
		}
		done <- r
	}()
	<-started
	if err := k.Interrupt(ctx); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r == nil || r.Status != "error" || r.Ename != "KeyboardInterrupt" {
		t.Fatalf("reply %+v", r)
	}
}

func TestKernelDeathNamesTheSignal(t *testing.T) {
	k := startKernel(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := k.Execute(ctx, "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)", nil)
	var d *DeathError
	if !errors.As(err, &d) || d.Signal != "SIGSEGV" {
		t.Fatalf("err = %v, want a death by SIGSEGV", err)
	}
	if _, err := k.Execute(ctx, "1", nil); !errors.As(err, &d) {
		t.Fatalf("execute on a dead kernel: %v", err)
	}
}

func TestShutdownEndsTheProcess(t *testing.T) {
	k := startKernel(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := k.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if k.Err() == nil {
		t.Fatal("kernel still running after Shutdown")
	}
	if err := syscall.Kill(k.Pid(), 0); !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("process %d still exists: %v", k.Pid(), err)
	}
}

func TestKernelEnvironmentAndDirectory(t *testing.T) {
	t.Setenv("GAFFER_SECRET_FOR_TEST", "hunter2")
	t.Setenv("KEPT_FOR_TEST", "yes")
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	k, err := Start(ctx, pythonSpec(t), Options{Dir: t.TempDir(), WorkDir: dir,
		DropEnv: func(name string) bool { return strings.HasPrefix(name, "GAFFER_") }})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Kill()
	var out collected
	if _, err := k.Execute(ctx, "import os\nprint(os.environ.get('GAFFER_SECRET_FOR_TEST'), os.environ.get('KEPT_FOR_TEST'), os.getcwd())", out.add); err != nil {
		t.Fatal(err)
	}
	if len(out.contents) != 1 || !strings.Contains(out.contents[0], "None yes "+dir) {
		t.Fatalf("kernel saw %v", out.contents)
	}
}

// TestRelativeConnectionDirectory: a kernel started in a work directory
// of its own with the connection file's directory given relative to the
// caller's (as `gaffer serve` gives ./gaffer-data) still connects.
func TestRelativeConnectionDirectory(t *testing.T) {
	spec := pythonSpec(t)
	t.Chdir(t.TempDir())
	if err := os.MkdirAll("data/runs", 0o700); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	k, err := Start(ctx, spec, Options{Dir: "data/runs", WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Kill()
	var out collected
	if _, err := k.Execute(ctx, "print(6 * 7)", out.add); err != nil || len(out.contents) != 1 || !strings.Contains(out.contents[0], "42") {
		t.Fatalf("execute: %v %v", err, out.contents)
	}
}
