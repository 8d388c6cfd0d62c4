package jupyter

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/go-zeromq/zmq4"
)

// Options configure Start.
type Options struct {
	// Dir holds the connection file while the kernel runs (default: the
	// system's temporary directory).
	Dir string
	// Env is added to the process environment and the spec's env.
	Env []string
	// DropEnv, if set, removes the variables of this process's
	// environment it returns true for (secrets the kernel must not see).
	DropEnv func(name string) bool
	// Now is the clock stamped into message headers (default time.Now).
	Now func() time.Time
	// WorkDir is the kernel's working directory (default: inherited).
	WorkDir string
	// StartTimeout bounds the start of one kernel, up to its answer to
	// kernel_info_request (default 60 s); a kernel not ready by then is
	// killed.
	StartTimeout time.Duration
}

// Kernel is a running kernel process and a client connected to it. Its
// methods may be called from several goroutines.
type Kernel struct {
	Spec *KernelSpec
	// Info is the kernel's kernel_info_reply content, read at start.
	Info KernelInfo

	conn     *ConnectionInfo
	connFile string
	signer   *Signer
	session  string
	now      func() time.Time
	cmd      *exec.Cmd
	stderr   *tailBuffer
	seq      atomic.Uint64

	ctx    context.Context
	cancel context.CancelFunc

	shell, control, stdin, iopub, hb zmq4.Socket
	sendMu                           sync.Mutex // one sender per socket at a time

	mu      sync.Mutex
	waiters map[string]chan received

	dead    chan struct{} // closed when the process has exited and been reaped
	exitErr *DeathError   // set before dead is closed
	closed  sync.Once
}

// KernelInfo is the part of kernel_info_reply that notebooks record.
type KernelInfo struct {
	ProtocolVersion string          `json:"protocol_version"`
	Implementation  string          `json:"implementation"`
	LanguageInfo    json.RawMessage `json:"language_info"`
}

// received is a message and the channel it arrived on.
type received struct {
	channel string
	msg     *Message
}

// DeathError reports a kernel process that exited while in use.
type DeathError struct {
	// Signal names the signal that killed it ("SIGKILL"), or "".
	Signal string
	// ExitCode is the exit status when no signal killed it.
	ExitCode int
	// Stderr is the end of what the kernel wrote to its standard error.
	Stderr string
}

func (e *DeathError) Error() string {
	what := fmt.Sprintf("exited with status %d", e.ExitCode)
	if e.Signal != "" {
		what = "killed by signal " + e.Signal
	}
	if e.Stderr != "" {
		return "kernel died: " + what + ": " + lastLine(e.Stderr)
	}
	return "kernel died: " + what
}

func lastLine(s string) string {
	s = string(bytes.TrimSpace([]byte(s)))
	if i := bytes.LastIndexByte([]byte(s), '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// Start launches a kernel from spec with a fresh connection file and
// returns once the kernel answers kernel_info_request on shell and its
// iopub messages arrive. If ctx ends first, or the process exits, the
// kernel is killed and the error says why.
func Start(ctx context.Context, spec *KernelSpec, opts Options) (*Kernel, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	for attempt := 1; ; attempt++ {
		k, err := start(ctx, spec, opts)
		var d *DeathError
		// Another process may take a port between our choice and the
		// kernel's bind (the kernel dies: address in use), or answer on
		// it before the kernel does (a channel's handshake fails); a
		// fresh set of ports is the remedy.
		if attempt < 3 && (errors.As(err, &d) && strings.Contains(d.Stderr, "Address already in use") || errors.Is(err, errChannel)) {
			continue
		}
		return k, err
	}
}

func start(ctx context.Context, spec *KernelSpec, opts Options) (*Kernel, error) {
	conn, err := NewConnectionInfo(spec.Name)
	if err != nil {
		return nil, err
	}
	signer, _ := NewSigner(conn.SignatureScheme, conn.Key)
	connFile, err := conn.WriteFile(opts.Dir)
	if err != nil {
		conn.releasePorts()
		return nil, err
	}
	// The kernel runs in opts.WorkDir: a relative path to its connection
	// file would name another file there, and the kernel would make one
	// of its own, on ports nobody dials.
	if abs, err := filepath.Abs(connFile); err == nil {
		connFile = abs
	}
	argv := spec.command(connFile)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	dieWithParent(cmd.SysProcAttr)
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if opts.DropEnv == nil || !opts.DropEnv(name) {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	for k, v := range spec.Env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Env = append(cmd.Env, opts.Env...)
	cmd.Dir = opts.WorkDir
	tail := &tailBuffer{max: 4096}
	cmd.Stdout = io.Discard
	cmd.Stderr = tail
	sid := make([]byte, 16)
	rand.Read(sid)
	kctx, cancel := context.WithCancel(context.Background())
	k := &Kernel{
		Spec: spec, conn: conn, connFile: connFile, signer: signer, session: hex.EncodeToString(sid),
		now: opts.Now, cmd: cmd, stderr: tail, ctx: kctx, cancel: cancel,
		waiters: map[string]chan received{}, dead: make(chan struct{}),
	}
	if err := cmd.Start(); err != nil {
		cancel()
		conn.releasePorts()
		os.Remove(connFile)
		return nil, fmt.Errorf("start kernel %s (%s): %w", spec.Name, argv[0], err)
	}
	go k.reap()
	timeout := opts.StartTimeout
	if timeout <= 0 {
		timeout = time.Minute
	}
	ctx, cancelStart := context.WithTimeout(ctx, timeout)
	defer cancelStart()
	// A ZMTP handshake does not watch a context; killing the process
	// ends one stuck on the kernel's side.
	stopKill := context.AfterFunc(ctx, func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	defer stopKill()
	if err := k.connect(ctx); err != nil {
		k.Kill()
		return nil, fmt.Errorf("start kernel %s: %w", spec.Name, err)
	}
	return k, nil
}

// reap waits for the process and records how it ended.
func (k *Kernel) reap() {
	err := k.cmd.Wait()
	d := &DeathError{Stderr: k.stderr.String()}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			d.Signal = signalName(ws.Signal())
		} else {
			d.ExitCode = ee.ExitCode()
		}
	}
	k.exitErr = d
	close(k.dead)
	k.cancel()
}

// Pid returns the kernel's process ID.
func (k *Kernel) Pid() int { return k.cmd.Process.Pid }

// Dead is closed when the kernel process has exited.
func (k *Kernel) Dead() <-chan struct{} { return k.dead }

// Err returns how the process ended, or nil while it runs.
func (k *Kernel) Err() *DeathError {
	select {
	case <-k.dead:
		return k.exitErr
	default:
		return nil
	}
}

func (k *Kernel) connect(ctx context.Context) error {
	opts := []zmq4.Option{zmq4.WithDialerRetry(5 * time.Millisecond), zmq4.WithDialerMaxRetries(-1)}
	stop := context.AfterFunc(ctx, k.cancel)
	defer stop()
	k.shell = zmq4.NewDealer(k.ctx, opts...)
	k.control = zmq4.NewDealer(k.ctx, opts...)
	k.stdin = zmq4.NewDealer(k.ctx, opts...)
	k.iopub = zmq4.NewSub(k.ctx, opts...)
	k.hb = zmq4.NewReq(k.ctx, opts...)
	for _, c := range []struct {
		name string
		s    zmq4.Socket
		port int
	}{{"shell", k.shell, k.conn.ShellPort}, {"control", k.control, k.conn.ControlPort}, {"stdin", k.stdin, k.conn.StdinPort}, {"iopub", k.iopub, k.conn.IOPubPort}, {"hb", k.hb, k.conn.HBPort}} {
		if err := c.s.Dial(k.conn.endpoint(c.port)); err != nil {
			return k.startFailure(ctx, fmt.Errorf("connect %s channel: %w: %w", c.name, errChannel, err))
		}
	}
	if err := k.iopub.SetOption(zmq4.OptionSubscribe, ""); err != nil {
		return fmt.Errorf("subscribe to iopub: %w", err)
	}
	go k.read("shell", k.shell)
	go k.read("control", k.control)
	go k.read("stdin", k.stdin)
	go k.read("iopub", k.iopub)
	return k.waitReady(ctx)
}

// errChannel marks a channel that could not connect to the kernel's
// port, which Start retries on fresh ports.
var errChannel = errors.New("the kernel's port did not answer as a kernel")

func (k *Kernel) startFailure(ctx context.Context, err error) error {
	select {
	case <-k.dead:
		return k.exitErr
	default:
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// waitReady sends kernel_info_request until both its reply and an iopub
// message arrive: a SUB socket misses what is published before its
// subscription reaches the kernel.
func (k *Kernel) waitReady(ctx context.Context) error {
	for {
		id, ch := k.newWaiter()
		if err := k.send(k.shell, "kernel_info_request", id, map[string]any{}); err != nil {
			k.dropWaiter(id)
			return k.startFailure(ctx, err)
		}
		var reply, iopub bool
		retry := time.NewTimer(250 * time.Millisecond)
		for !(reply && iopub) {
			select {
			case r := <-ch:
				if r.channel == "iopub" {
					iopub = true
				} else if r.msg.Header.MsgType == "kernel_info_reply" {
					reply = true
					if err := json.Unmarshal(r.msg.Content, &k.Info); err != nil {
						k.dropWaiter(id)
						return fmt.Errorf("kernel_info_reply: %w", err)
					}
				}
			case <-retry.C:
				if reply {
					retry.Reset(250 * time.Millisecond)
					continue
				}
				goto again
			case <-k.dead:
				k.dropWaiter(id)
				return k.exitErr
			case <-ctx.Done():
				k.dropWaiter(id)
				return ctx.Err()
			}
		}
		retry.Stop()
		k.dropWaiter(id)
		return nil
	again:
		k.dropWaiter(id)
	}
}

func (k *Kernel) newWaiter() (string, chan received) {
	id := fmt.Sprintf("%s_%d", k.session, k.seq.Add(1))
	ch := make(chan received, 256)
	k.mu.Lock()
	k.waiters[id] = ch
	k.mu.Unlock()
	return id, ch
}

func (k *Kernel) dropWaiter(id string) {
	k.mu.Lock()
	delete(k.waiters, id)
	k.mu.Unlock()
}

// read receives messages from one channel and hands each to the waiter
// of its parent message; others (such as status of nobody's request) are
// dropped. It returns when the socket closes.
func (k *Kernel) read(channel string, s zmq4.Socket) {
	for {
		raw, err := s.Recv()
		if err != nil {
			return
		}
		m, err := k.signer.Decode(raw.Frames)
		if err != nil {
			continue // unsigned or malformed: not from our kernel
		}
		k.mu.Lock()
		ch := k.waiters[m.ParentHeader.MsgID]
		k.mu.Unlock()
		if ch == nil {
			continue
		}
		select {
		case ch <- received{channel: channel, msg: m}:
		case <-k.ctx.Done():
			return
		}
	}
}

// send signs and sends a request with the given message ID.
func (k *Kernel) send(s zmq4.Socket, msgType, id string, content any) error {
	body, err := json.Marshal(content)
	if err != nil {
		return fmt.Errorf("encode %s: %w", msgType, err)
	}
	m := &Message{
		Header: Header{MsgID: id, Session: k.session, Username: "gaffer", Date: k.now().UTC().Format(time.RFC3339Nano),
			MsgType: msgType, Version: ProtocolVersion},
		Content: body,
	}
	frames, err := k.signer.Encode(m)
	if err != nil {
		return err
	}
	k.sendMu.Lock()
	defer k.sendMu.Unlock()
	if err := s.SendMulti(zmq4.NewMsgFrom(frames...)); err != nil {
		return fmt.Errorf("send %s: %w", msgType, err)
	}
	return nil
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = append(t.buf[:0:0], t.buf[len(t.buf)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
