package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// startup bounds how the embedded server is started.
type startup struct {
	// Ready is how long one attempt may take to accept connections.
	// JetStream recovers its store before it listens, which after an
	// unclean stop of a large stream takes a while.
	Ready time.Duration
	// PortWait is how long the listen address may stay in use: after a
	// kill -9 and an immediate restart, the old process may still hold
	// it while it exits.
	PortWait time.Duration
	// Retry is the pause between attempts.
	Retry time.Duration
	// AnyPort listens on a free port at once when the port is in use.
	AnyPort bool
}

var embeddedStartup = startup{Ready: 2 * time.Minute, PortWait: 30 * time.Second, Retry: 250 * time.Millisecond}

// startServer starts an embedded nats-server and waits until it accepts
// connections. nats-server reports why it could not start only through
// its logger (and with no logger, not at all: it then just never becomes
// ready), so a logger here catches the cause, which ends the wait at
// once and is returned. A listen address in use is waited for, with the
// cause logged, for up to PortWait.
func startServer(opts *server.Options, log *slog.Logger, st startup) (*server.Server, error) {
	deadline := time.Now().Add(st.PortWait)
	for attempt := 1; ; attempt++ {
		srv, err := tryStart(opts, log, st.Ready)
		if err == nil {
			if attempt > 1 {
				log.Info("embedded nats started", "attempt", attempt, "addr", srv.Addr().String())
			}
			return srv, nil
		}
		if errors.Is(err, syscall.EADDRINUSE) && st.AnyPort && opts.Port != server.RANDOM_PORT {
			log.Warn("embedded nats: the address is in use (another gaffer serve on this machine?); listening on a free port instead, "+
				"which gaffer worker finds in the data directory; give --nats-listen to choose one",
				"addr", net.JoinHostPort(opts.Host, strconv.Itoa(opts.Port)))
			opts.Port = server.RANDOM_PORT
			continue
		}
		if !errors.Is(err, syscall.EADDRINUSE) || time.Now().After(deadline) {
			return nil, err
		}
		if attempt == 1 {
			log.Warn("embedded nats cannot listen yet; waiting for the address (is a previous gaffer serve still exiting?)",
				"addr", net.JoinHostPort(opts.Host, strconv.Itoa(opts.Port)), "cause", err, "wait", st.PortWait)
		}
		time.Sleep(st.Retry)
	}
}

// tryStart makes one attempt.
func tryStart(opts *server.Options, log *slog.Logger, ready time.Duration) (*server.Server, error) {
	if err := probeListen(opts); err != nil {
		return nil, err
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("bus: embedded nats: %w", err)
	}
	nl := &natsLogger{log: log}
	srv.SetLogger(nl, false, false)
	go srv.Start()
	start := time.Now()
	nextNote := 10 * time.Second
	for !srv.ReadyForConnections(100 * time.Millisecond) {
		if err := nl.failure(); err != nil {
			srv.Shutdown()
			return nil, err
		}
		waited := time.Since(start)
		if waited >= ready {
			srv.Shutdown()
			return nil, fmt.Errorf("bus: embedded nats did not become ready within %s (no error reported; "+
				"JetStream may still be recovering %s)", ready, opts.StoreDir)
		}
		if waited >= nextNote {
			log.Info("embedded nats is still starting; JetStream recovers its store after an unclean stop",
				"waited", waited.Round(time.Second), "store", opts.StoreDir)
			nextNote += 10 * time.Second
		}
	}
	nl.started.Store(true)
	return srv, nil
}

// probeListen checks that the client listen address is free, so that a
// port still held is found at once and by its error, not by nats-server
// failing to become ready. (The address is released again for
// nats-server; another process could take it in between, which the
// logger then reports.)
func probeListen(opts *server.Options) error {
	if opts.DontListen || opts.Port == server.RANDOM_PORT || opts.Port == 0 {
		return nil
	}
	addr := net.JoinHostPort(opts.Host, strconv.Itoa(opts.Port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("bus: embedded nats: listen on %s: %w", addr, err)
	}
	return ln.Close()
}

// natsLogger forwards the embedded server's log to slog: while it starts,
// warnings and errors as warnings, so that a failed start says why;
// afterwards at debug level, since client errors (a refused agent login)
// are logged there too and would flood the log. A fatal error is kept
// and ends the start.
type natsLogger struct {
	log     *slog.Logger
	started atomic.Bool

	mu    sync.Mutex
	fatal error
}

func (l *natsLogger) failure() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.fatal
}

func (l *natsLogger) Fatalf(format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	l.log.Error("embedded nats: " + msg)
	l.mu.Lock()
	if l.fatal == nil {
		l.fatal = fmt.Errorf("bus: embedded nats: %s", msg)
		// nats-server gives the listen error only as text.
		if strings.Contains(msg, syscall.EADDRINUSE.Error()) {
			l.fatal = fmt.Errorf("bus: embedded nats: %s: %w", msg, syscall.EADDRINUSE)
		}
	}
	l.mu.Unlock()
}

func (l *natsLogger) Errorf(format string, v ...any) { l.forward(format, v...) }
func (l *natsLogger) Warnf(format string, v ...any)  { l.forward(format, v...) }
func (l *natsLogger) Noticef(format string, v ...any) {
	l.log.Debug("embedded nats: " + fmt.Sprintf(format, v...))
}
func (l *natsLogger) Debugf(string, ...any) {}
func (l *natsLogger) Tracef(string, ...any) {}

func (l *natsLogger) forward(format string, v ...any) {
	level := slog.LevelWarn
	if l.started.Load() {
		level = slog.LevelDebug
	}
	l.log.Log(context.Background(), level, "embedded nats: "+fmt.Sprintf(format, v...))
}
