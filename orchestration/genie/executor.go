package genie

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// ExecSpec is one job process to start.
type ExecSpec struct {
	// Dir is the working directory.
	Dir string
	// Argv is the program and its arguments; Argv[0] is looked up in
	// the PATH of Env when it has no slash.
	Argv []string
	// Env is the whole environment, as KEY=value.
	Env []string
	// Stdout and Stderr receive the process's output.
	Stdout, Stderr *os.File
	// JobID is the job the process runs.
	JobID string
	// Agent is the agent of the job's cluster (its ClusterAgentTag), ""
	// when the cluster names none and the job runs on this host.
	Agent string
	// Timeout bounds the job; the executor may enforce it too.
	Timeout time.Duration
}

// Executor starts job processes on the host attached to a cluster. The
// local executor runs them beside the Gaffer process that claimed the
// job; AgentExecutor runs them through the cluster's host agent.
type Executor interface {
	Start(spec ExecSpec) (Process, error)
}

// Process is a started job process.
type Process interface {
	// PID is the process id on its host.
	PID() int
	// Wait blocks until the process ends and returns its exit code (-1
	// when a signal ended it).
	Wait() (int, error)
	// Kill stops the process and everything it started: a SIGTERM to its
	// process group, then a SIGKILL after grace.
	Kill(grace time.Duration)
}

// LocalExecutor runs job processes on this host, each in its own
// process group.
type LocalExecutor struct{}

// Start implements Executor.
func (LocalExecutor) Start(spec ExecSpec) (Process, error) {
	if len(spec.Argv) == 0 {
		return nil, errors.New("no program to run")
	}
	path := spec.Argv[0]
	if !containsSlash(path) {
		var err error
		if path, err = lookPath(path, spec.Env); err != nil {
			return nil, err
		}
	}
	cmd := &exec.Cmd{Path: path, Args: spec.Argv, Dir: spec.Dir, Env: spec.Env, Stdout: spec.Stdout, Stderr: spec.Stderr,
		SysProcAttr: &syscall.SysProcAttr{Setpgid: true}}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", spec.Argv[0], err)
	}
	return &localProcess{cmd: cmd, done: make(chan struct{})}, nil
}

func containsSlash(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '/' {
			return true
		}
	}
	return false
}

// lookPath finds prog in the PATH of env.
func lookPath(prog string, env []string) (string, error) {
	pathVar := "/usr/local/bin:/usr/bin:/bin"
	for _, kv := range env {
		if len(kv) > 5 && kv[:5] == "PATH=" {
			pathVar = kv[5:]
		}
	}
	for _, dir := range splitList(pathVar) {
		p := dir + "/" + prog
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("program %q: not found in PATH %s", prog, pathVar)
}

func splitList(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ':' {
			if i > start {
				out = append(out, s[start:i])
			}
			start = i + 1
		}
	}
	return out
}

type localProcess struct {
	cmd      *exec.Cmd
	done     chan struct{}
	killOnce sync.Once
}

func (p *localProcess) PID() int { return p.cmd.Process.Pid }

func (p *localProcess) Wait() (int, error) {
	err := p.cmd.Wait()
	close(p.done)
	if err == nil {
		return 0, nil
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), nil
	}
	return -1, err
}

func (p *localProcess) Kill(grace time.Duration) {
	p.killOnce.Do(func() {
		pgid := p.cmd.Process.Pid
		syscall.Kill(-pgid, syscall.SIGTERM)
		go func() {
			t := time.NewTimer(grace)
			defer t.Stop()
			select {
			case <-p.done:
			case <-t.C:
				syscall.Kill(-pgid, syscall.SIGKILL)
			}
		}()
	})
}
