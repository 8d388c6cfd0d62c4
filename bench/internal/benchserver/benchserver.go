// Package benchserver runs `gaffer serve` for the benchmark programs under
// bench/ and hands back the API client the gaffer CLI uses
// (internal/platform/cli), so that every program starts Gaffer, waits for
// it and calls its API the same way: bearer token, JSON bodies, error
// envelopes turned into *cli.APIError.
package benchserver

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/cli"
)

// readyTimeout is how long Start waits for /readyz and the admin token.
const readyTimeout = 60 * time.Second

// Build compiles ./cmd/gaffer of the module the program runs in (found
// with `go env GOMOD`, so any working directory inside it will do) to
// dir/gaffer and returns the binary's path.
func Build(dir string) (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("go env GOMOD: not inside the gaffer module; run from the repository")
	}
	bin := filepath.Join(dir, "gaffer")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/gaffer")
	cmd.Dir = filepath.Dir(mod)
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/gaffer: %w\n%s", err, b)
	}
	return bin, nil
}

// FreeAddr returns a loopback address with a port that was free a moment
// ago.
func FreeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// Server is a running `gaffer serve` started by Start.
type Server struct {
	// URL is the server's base URL (http://127.0.0.1:port).
	URL string
	// Client calls the API with the server's bootstrap admin token.
	Client *cli.Client
	// ReadyAfter is the time from the process's start to the first 200
	// from /readyz.
	ReadyAfter time.Duration

	cmd *exec.Cmd
	tmp string // removed by Stop (Launch's directory)
}

// Launch builds ./cmd/gaffer into a new temporary directory and starts it
// as Start does, on a free port and a data directory inside it, with
// output to out and more serve flags args; Stop removes the directory.
func Launch(out io.Writer, args ...string) (*Server, error) {
	tmp, err := os.MkdirTemp("", "gaffer-bench-")
	if err != nil {
		return nil, fmt.Errorf("temporary directory: %w", err)
	}
	bin, err := Build(tmp)
	if err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	s, err := Start(Config{Bin: bin, DataDir: filepath.Join(tmp, "data"), Out: out, Args: args})
	if err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	s.tmp = tmp
	return s, nil
}

// Config is how Start runs `gaffer serve`.
type Config struct {
	// Bin is the gaffer binary (see Build).
	Bin string
	// DataDir is serve's --data-dir; the admin token is read from it.
	DataDir string
	// Listen is serve's --listen; empty picks a free loopback port.
	Listen string
	// Out gets the process's standard output and error; nil discards them.
	Out io.Writer
	// Args are more flags for serve: --nats-listen, --roles, ...
	Args []string
}

// Start runs `gaffer serve` as cfg says and waits up to a minute until
// /readyz answers 200 and the admin token file exists. On error the
// process is stopped.
func Start(cfg Config) (*Server, error) {
	addr := cfg.Listen
	if addr == "" {
		var err error
		if addr, err = FreeAddr(); err != nil {
			return nil, err
		}
	}
	s := &Server{URL: "http://" + addr}
	s.cmd = exec.Command(cfg.Bin, append([]string{"serve", "--listen", addr, "--data-dir", cfg.DataDir}, cfg.Args...)...)
	s.cmd.Stdout, s.cmd.Stderr = cfg.Out, cfg.Out
	start := time.Now()
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s serve: %w", cfg.Bin, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	public, err := (&cli.ClientFlags{Server: s.URL, Timeout: 10 * time.Second}).PublicClient()
	if err == nil {
		err = WaitReady(ctx, public)
	}
	s.ReadyAfter = time.Since(start)
	if err == nil {
		s.Client, err = adminClient(ctx, s.URL, filepath.Join(cfg.DataDir, "admin.token"))
	}
	if err != nil {
		s.Stop()
		return nil, fmt.Errorf("gaffer serve on %s: %w", addr, err)
	}
	return s, nil
}

// adminClient waits until the admin token file exists and returns a
// client that uses it.
func adminClient(ctx context.Context, url, tokenFile string) (*cli.Client, error) {
	for {
		if _, err := os.Stat(tokenFile); err == nil {
			return (&cli.ClientFlags{Server: url, TokenFile: tokenFile, Timeout: 60 * time.Second}).Client()
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("admin token file %s: not written: %w", tokenFile, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// WaitReady polls GET /readyz through c every 5 ms until it answers 200
// or ctx ends; the error then says what the last answer was.
func WaitReady(ctx context.Context, c *cli.Client) error {
	for {
		_, _, err := c.Get(ctx, "/readyz")
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("GET /readyz: not ready (%w); last answer: %w", ctx.Err(), err)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// Pid is the server process's ID (for its CPU time and memory in /proc).
func (s *Server) Pid() int { return s.cmd.Process.Pid }

// Stop sends SIGTERM and waits up to 30 s for the server to exit, then
// kills it, and removes Launch's directory. It may be called more than
// once, and on nil.
func (s *Server) Stop() {
	if s == nil {
		return
	}
	if s.cmd.Process != nil && s.cmd.ProcessState == nil {
		s.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { s.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			s.cmd.Process.Kill()
			<-done
		}
	}
	if s.tmp != "" {
		os.RemoveAll(s.tmp)
	}
}

// TargetFlags registers -server, -token-file and -ca-file on fs: a running
// Gaffer for a benchmark to aim at instead of starting its own (Server
// stays empty when -server is not given). Requests time out after a
// minute.
func TargetFlags(fs *flag.FlagSet) *cli.ClientFlags {
	f := &cli.ClientFlags{Timeout: time.Minute}
	fs.StringVar(&f.Server, "server", "", "target server (default: build and start one)")
	fs.StringVar(&f.TokenFile, "token-file", "", "admin token file of -server (default ./gaffer-data/admin.token when it exists)")
	fs.StringVar(&f.CAFile, "ca-file", "", "CA certificate (PEM) of an https -server: its <data-dir>/ca.pem")
	return f
}

// Connect returns a client for the Gaffer that target names or, when
// target.Server is empty, launches one (Launch with out and args) and
// returns its client and the server, which the caller stops. The server
// is nil for a target; Stop on nil does nothing.
func Connect(target *cli.ClientFlags, out io.Writer, args ...string) (*cli.Client, *Server, error) {
	if target.Server != "" {
		c, err := target.Client()
		return c, nil, err
	}
	s, err := Launch(out, args...)
	if err != nil {
		return nil, nil, err
	}
	return s.Client, s, nil
}

// Pooled returns a copy of c whose HTTP client keeps up to conns
// keep-alive connections to the server and gives up on a request after
// timeout, for benchmarks that call the API from many goroutines at once.
// A pinned TLS configuration is kept.
func Pooled(c *cli.Client, conns int, timeout time.Duration) *cli.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = conns, conns
	tr.TLSClientConfig = c.TLS
	p := *c
	p.HTTP = &http.Client{Transport: tr, Timeout: timeout}
	return &p
}
