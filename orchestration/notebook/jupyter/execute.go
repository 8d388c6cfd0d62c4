package jupyter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"syscall"

	"github.com/go-zeromq/zmq4"
)

// OutputHandler receives the iopub messages a request caused that carry
// output: stream, display_data, update_display_data, execute_result,
// error and clear_output, in the order the kernel sent them.
type OutputHandler func(msgType string, content json.RawMessage)

// ExecuteReply is the outcome of one execute_request.
type ExecuteReply struct {
	// Status is "ok", "error" or "aborted".
	Status         string   `json:"status"`
	ExecutionCount int      `json:"execution_count"`
	Ename          string   `json:"ename,omitempty"`
	Evalue         string   `json:"evalue,omitempty"`
	Traceback      []string `json:"traceback,omitempty"`
}

// Execute runs code and returns when the kernel has replied on shell and
// gone idle on iopub for this request. Outputs go to onOutput as they
// arrive. If ctx ends first, Execute returns ctx.Err() with the kernel
// still busy (interrupt or kill it); if the kernel dies, a *DeathError.
func (k *Kernel) Execute(ctx context.Context, code string, onOutput OutputHandler) (*ExecuteReply, error) {
	id, ch := k.newWaiter()
	defer k.dropWaiter(id)
	err := k.send(k.shell, "execute_request", id, map[string]any{
		"code": code, "silent": false, "store_history": true,
		"user_expressions": map[string]any{}, "allow_stdin": false, "stop_on_error": true,
	})
	if err != nil {
		return nil, k.deathOr(err)
	}
	var reply *ExecuteReply
	idle := false
	for reply == nil || !idle {
		select {
		case r := <-ch:
			switch t := r.msg.Header.MsgType; {
			case r.channel == "shell" && t == "execute_reply":
				reply = &ExecuteReply{}
				if err := json.Unmarshal(r.msg.Content, reply); err != nil {
					return nil, fmt.Errorf("execute_reply: %w", err)
				}
			case r.channel != "iopub":
			case t == "status":
				var st struct {
					ExecutionState string `json:"execution_state"`
				}
				if json.Unmarshal(r.msg.Content, &st) == nil && st.ExecutionState == "idle" {
					idle = true
				}
			case t == "stream", t == "display_data", t == "update_display_data", t == "execute_result", t == "error", t == "clear_output":
				if onOutput != nil {
					onOutput(t, r.msg.Content)
				}
			}
		case <-k.dead:
			return nil, k.exitErr
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return reply, nil
}

func (k *Kernel) deathOr(err error) error {
	if d := k.Err(); d != nil {
		return d
	}
	return err
}

// request sends a request on a channel and waits for its reply there.
func (k *Kernel) request(ctx context.Context, s zmq4.Socket, channel, msgType string, content any) (*Message, error) {
	id, ch := k.newWaiter()
	defer k.dropWaiter(id)
	if err := k.send(s, msgType, id, content); err != nil {
		return nil, k.deathOr(err)
	}
	for {
		select {
		case r := <-ch:
			if r.channel == channel {
				return r.msg, nil
			}
		case <-k.dead:
			return nil, k.exitErr
		case <-ctx.Done():
			return nil, fmt.Errorf("%s: %w", msgType, ctx.Err())
		}
	}
}

// Interrupt interrupts the code the kernel runs, as its spec says: SIGINT
// to the kernel's process group, or an interrupt_request on control.
func (k *Kernel) Interrupt(ctx context.Context) error {
	if k.Spec.InterruptMode == "message" {
		_, err := k.request(ctx, k.control, "control", "interrupt_request", map[string]any{})
		return err
	}
	if err := syscall.Kill(-k.cmd.Process.Pid, syscall.SIGINT); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("interrupt kernel: %w", err)
	}
	return nil
}

// Shutdown asks the kernel to exit (shutdown_request on control) and
// kills it if it has not exited when ctx ends.
func (k *Kernel) Shutdown(ctx context.Context) error {
	_, err := k.request(ctx, k.control, "control", "shutdown_request", map[string]any{"restart": false})
	if err == nil {
		select {
		case <-k.dead:
		case <-ctx.Done():
		}
	}
	k.Kill()
	return nil
}

// Kill ends the kernel's process group with SIGKILL, waits for the process
// to be reaped, closes the channels and removes the connection file. It
// is safe to call more than once.
func (k *Kernel) Kill() {
	k.closed.Do(func() {
		syscall.Kill(-k.cmd.Process.Pid, syscall.SIGKILL)
		<-k.dead
		k.cancel()
		for _, s := range []zmq4.Socket{k.shell, k.control, k.stdin, k.iopub, k.hb} {
			if s != nil {
				s.Close()
			}
		}
		os.Remove(k.connFile)
		k.conn.releasePorts()
	})
}

// Ping sends a heartbeat and waits for its echo.
func (k *Kernel) Ping(ctx context.Context) error {
	done := make(chan error, 1)
	go func() {
		k.sendMu.Lock()
		err := k.hb.Send(zmq4.NewMsgString("ping"))
		k.sendMu.Unlock()
		if err == nil {
			_, err = k.hb.Recv()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			return k.deathOr(fmt.Errorf("heartbeat: %w", err))
		}
		return nil
	case <-k.dead:
		return k.exitErr
	case <-ctx.Done():
		return fmt.Errorf("heartbeat: %w", ctx.Err())
	}
}

// signalName returns the conventional name of a signal, such as SIGKILL.
func signalName(s syscall.Signal) string {
	names := map[syscall.Signal]string{
		syscall.SIGKILL: "SIGKILL", syscall.SIGTERM: "SIGTERM", syscall.SIGINT: "SIGINT",
		syscall.SIGSEGV: "SIGSEGV", syscall.SIGABRT: "SIGABRT", syscall.SIGBUS: "SIGBUS",
		syscall.SIGHUP: "SIGHUP", syscall.SIGQUIT: "SIGQUIT", syscall.SIGFPE: "SIGFPE",
		syscall.SIGILL: "SIGILL", syscall.SIGPIPE: "SIGPIPE", syscall.SIGUSR1: "SIGUSR1", syscall.SIGUSR2: "SIGUSR2",
	}
	if n, ok := names[s]; ok {
		return n
	}
	return fmt.Sprintf("signal %d", int(s))
}
