package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// killGrace is how long a timed-out or cancelled action has between
// SIGTERM and SIGKILL of its process group.
const killGrace = 2 * time.Second

// chunkEvery and chunkBytes bound how long and how much output waits
// before it is streamed to the server.
const (
	chunkEvery = 100 * time.Millisecond
	chunkBytes = 32 << 10
)

// OutputFunc receives output chunks as the action writes them.
type OutputFunc func(stream string, data []byte)

// Exec runs the action with params (already checked) until it exits, its
// timeout passes (timeout, when shorter than the action's own) or ctx is
// cancelled; in the last two cases the whole process group is killed. Its
// environment holds only PATH, HOME, LANG, the run's identity and the
// parameters (GAFFER_PARAMS as JSON, and PARAM_<NAME> for scalars).
func (a *Action) Exec(ctx context.Context, run string, params map[string]any, timeout time.Duration, out OutputFunc) Result {
	res := Result{Run: run, Action: a.Name, Started: time.Now().UTC()}
	limit := a.timeout
	if timeout > 0 && timeout < limit {
		limit = timeout
	}
	argv := a.Argv(params)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = a.Dir
	cmd.Env = a.env(run, params)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := a.setUser(cmd); err != nil {
		return finish(res, StatusRejected, -1, err)
	}
	pj, _ := json.Marshal(params)
	cmd.Stdin = bytes.NewReader(pj)
	stdout := &capped{cap: a.outputCap, stream: "stdout", out: out}
	stderr := &capped{cap: a.outputCap, stream: "stderr", out: out}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		return finish(res, StatusFailed, -1, fmt.Errorf("start %s: %w", a.Command, err))
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	flush := time.NewTicker(chunkEvery)
	defer flush.Stop()
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	status, why := "", error(nil)
	var err error
wait:
	for {
		select {
		case err = <-done:
			break wait
		case <-flush.C:
			stdout.flush()
			stderr.flush()
		case <-deadline.C:
			status, why = StatusTimeout, fmt.Errorf("timed out after %s; process group killed", limit)
			err = killGroup(cmd, done)
			break wait
		case <-ctx.Done():
			status, why = StatusCancelled, errors.New("cancelled; process group killed")
			err = killGroup(cmd, done)
			break wait
		}
	}
	stdout.flush()
	stderr.flush()
	res.Stdout, res.Stderr = stdout.String(), stderr.String()
	res.Truncated = stdout.dropped > 0 || stderr.dropped > 0
	if t := bytes.TrimSpace(stdout.buf.Bytes()); len(t) > 0 && (t[0] == '{' || t[0] == '[') && json.Valid(t) && stdout.dropped == 0 {
		res.Output = json.RawMessage(t)
		res.Stdout = "" // the same bytes, parsed
	}
	code := -1
	if cmd.ProcessState != nil {
		code = cmd.ProcessState.ExitCode()
	}
	if status != "" {
		return finish(res, status, code, why)
	}
	if err != nil {
		return finish(res, StatusFailed, code, fmt.Errorf("exited with status %d", code))
	}
	return finish(res, StatusSucceeded, 0, nil)
}

func finish(r Result, status string, code int, err error) Result {
	r.Status, r.ExitCode, r.Finished = status, code, time.Now().UTC()
	if err != nil {
		r.Error = err.Error()
	}
	return r
}

// killGroup ends the process group: SIGTERM, then SIGKILL after a grace.
func killGroup(cmd *exec.Cmd, done chan error) error {
	pgid := cmd.Process.Pid
	syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case err := <-done:
		syscall.Kill(-pgid, syscall.SIGKILL) // children that ignored SIGTERM
		return err
	case <-time.After(killGrace):
	}
	syscall.Kill(-pgid, syscall.SIGKILL)
	return <-done
}

// selfExe is the running binary's path.
var selfExe = sync.OnceValues(os.Executable)

func (a *Action) env(run string, params map[string]any) []string {
	env := []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8",
		"HOME=" + a.Dir, "GAFFER_RUN_ID=" + run, "GAFFER_ACTION=" + a.Name}
	// The agent's own binary, so an action can use gaffer's local
	// commands (`gaffer notebook run`) without it on the PATH.
	if exe, err := selfExe(); err == nil {
		env = append(env, "GAFFER_BIN="+exe)
	}
	pj, _ := json.Marshal(params)
	env = append(env, "GAFFER_PARAMS="+string(pj))
	names := make([]string, 0, len(params))
	for k := range params {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		switch params[k].(type) {
		case map[string]any, []any, nil:
			continue
		}
		v := paramString(params[k])
		if strings.ContainsRune(v, 0) {
			continue
		}
		env = append(env, "PARAM_"+strings.ToUpper(k)+"="+v)
	}
	return env
}

func (a *Action) setUser(cmd *exec.Cmd) error {
	if a.User == "" {
		return nil
	}
	u, err := user.Lookup(a.User)
	if err != nil {
		return fmt.Errorf("run as %s: %w", a.User, err)
	}
	if cur, err := user.Current(); err == nil && cur.Uid == u.Uid {
		return nil
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("run as %s: the agent is not running as root", a.User)
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	return nil
}

// capped keeps up to cap bytes of a stream, counts what it drops, and
// hands what it keeps to out in chunks.
type capped struct {
	cap     int
	stream  string
	out     OutputFunc
	mu      sync.Mutex
	buf     bytes.Buffer
	sent    int
	dropped int
}

func (c *capped) Write(p []byte) (int, error) {
	c.mu.Lock()
	room := c.cap - c.buf.Len()
	keep := min(len(p), max(room, 0))
	c.buf.Write(p[:keep])
	c.dropped += len(p) - keep
	full := c.buf.Len()-c.sent >= chunkBytes
	c.mu.Unlock()
	if full {
		c.flush()
	}
	return len(p), nil
}

func (c *capped) flush() {
	c.mu.Lock()
	chunk := append([]byte(nil), c.buf.Bytes()[c.sent:]...)
	c.sent = c.buf.Len()
	c.mu.Unlock()
	if len(chunk) > 0 && c.out != nil {
		c.out(c.stream, chunk)
	}
}

func (c *capped) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.String()
}

var _ io.Writer = (*capped)(nil)
