package agent

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
)

// Config is how `gaffer agent` is told to run.
type Config struct {
	// Server is the Gaffer server's HTTP URL, asked where NATS is.
	Server string
	// Token is the agent's token (identity agent:<name>, scope agent:read).
	Token string
	// ActionsDir holds the declared actions and the bundle lock file.
	ActionsDir string
	// Tags describe the host for target selection (role=web, az=a).
	Tags map[string]string
	// NATSURL overrides the NATS address the server advertises.
	NATSURL string
	// NATSCreds, for an external NATS, is the agent's credentials file;
	// the token then only serves the HTTP bootstrap.
	NATSCreds string
	// Hostname overrides the host name reported (for tests).
	Hostname string
	// RequestKey, when set, pins the server's request-signing key
	// (FormatRequestKey form): an agent whose server answers the bootstrap
	// with another key does not start.
	RequestKey string
	// MaxRequestAge is how far a request's issue time may lie from this
	// host's clock (default DefaultMaxRequestAge).
	MaxRequestAge time.Duration
	// Now is the agent's clock (default time.Now).
	Now func() time.Time
	Log *slog.Logger
	// HTTP is the client for the bootstrap call (default: 10 s timeout,
	// verifying an https server with TLS).
	HTTP *http.Client
	// TLS pins the server's CA for the bootstrap call and NATS: nil for
	// an http:// server; required for https:// (see cli.PinnedTLS).
	TLS *tls.Config
	// Bootstrap, for an agent inside the server's own process (the demo
	// agent), is the server's bootstrap answer, given directly: Server is
	// then not asked. The request key in it is still checked against
	// RequestKey when both are set.
	Bootstrap *Bootstrap
}

// Agent is a running host agent.
type Agent struct {
	cfg     Config
	log     *slog.Logger
	name    string
	boot    string
	nc      *nats.Conn
	actions map[string]*Action
	// verifier checks the server's signed requests.
	verifier *RequestVerifier

	mu       sync.Mutex
	running  map[string]context.CancelFunc
	finished map[string]finishedRun // results, kept to answer status and until acknowledged
	hbEvery  time.Duration
	wake     chan struct{}
	rehello  atomic.Bool
}

type finishedRun struct {
	res   Result
	acked bool
	at    time.Time
}

// keepResults is how long results are kept after acknowledgement, to
// answer status requests.
const keepResults = 10 * time.Minute

// New prepares an agent: it asks the server who it is and where NATS is,
// installs the locked bundles and loads the actions. Connect starts it.
func New(ctx context.Context, cfg Config) (*Agent, error) {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if strings.HasPrefix(cfg.Server, "https://") && cfg.TLS == nil {
		return nil, fmt.Errorf("agent: server %s is https but no CA certificate is pinned (--ca-file)", cfg.Server)
	}
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Timeout: 10 * time.Second}
		if cfg.TLS != nil {
			tr := http.DefaultTransport.(*http.Transport).Clone()
			tr.TLSClientConfig = cfg.TLS
			cfg.HTTP.Transport = tr
		}
	}
	if cfg.Hostname == "" {
		cfg.Hostname, _ = os.Hostname()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxRequestAge < 0 {
		return nil, fmt.Errorf("agent: max-request-age: must not be negative, got %s", cfg.MaxRequestAge)
	}
	var b [8]byte
	rand.Read(b[:])
	a := &Agent{cfg: cfg, log: cfg.Log, boot: hex.EncodeToString(b[:]), running: map[string]context.CancelFunc{},
		finished: map[string]finishedRun{}, hbEvery: 5 * time.Second, wake: make(chan struct{}, 1)}
	boot := cfg.Bootstrap
	if boot == nil {
		var err error
		if boot, err = a.bootstrap(ctx); err != nil {
			return nil, err
		}
	} else if err := ValidName(boot.Name); err != nil {
		return nil, fmt.Errorf("agent: bootstrap: %w", err)
	}
	a.name = boot.Name
	a.log = a.log.With("agent", a.name)
	key, err := a.requestKey(boot)
	if err != nil {
		return nil, err
	}
	a.verifier = NewRequestVerifier(key, a.name, cfg.MaxRequestAge, cfg.Now)
	urls := boot.NATS
	if cfg.NATSURL != "" {
		urls = strings.Split(cfg.NATSURL, ",")
	}
	if len(urls) == 0 {
		return nil, errors.New("agent: the server advertises no NATS address; pass --nats-url")
	}
	if err := a.connect(urls); err != nil {
		return nil, err
	}
	if err := a.installBundles(ctx); err != nil {
		a.nc.Close()
		return nil, err
	}
	if err := a.Reload(); err != nil {
		a.nc.Close()
		return nil, err
	}
	return a, nil
}

// Name is the agent's name, from its token.
func (a *Agent) Name() string { return a.name }

func (a *Agent) bootstrap(ctx context.Context) (*Bootstrap, error) {
	u := strings.TrimRight(a.cfg.Server, "/") + "/api/v1/remediation/agent/bootstrap"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("agent: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+a.cfg.Token)
	resp, err := a.cfg.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("agent: bootstrap from %s: %w", a.cfg.Server, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var env struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		json.NewDecoder(resp.Body).Decode(&env)
		return nil, fmt.Errorf("agent: bootstrap from %s: %d %s", a.cfg.Server, resp.StatusCode, env.Error.Message)
	}
	var b Bootstrap
	if err := json.NewDecoder(resp.Body).Decode(&b); err != nil {
		return nil, fmt.Errorf("agent: bootstrap answer: %w", err)
	}
	if err := ValidName(b.Name); err != nil {
		return nil, fmt.Errorf("agent: bootstrap answer: %w", err)
	}
	for i, s := range b.NATS {
		if host, err := url.Parse(s); err == nil && host.Hostname() == "0.0.0.0" {
			su, _ := url.Parse(a.cfg.Server)
			host.Host = strings.Replace(host.Host, "0.0.0.0", su.Hostname(), 1)
			b.NATS[i] = host.String()
		}
	}
	return &b, nil
}

// requestKey is the server's request-signing key from the bootstrap
// answer, checked against the pinned one.
func (a *Agent) requestKey(b *Bootstrap) (ed25519.PublicKey, error) {
	if b.RequestKey == "" {
		return nil, fmt.Errorf("agent: the server at %s gives no request-signing key (a server older than this agent?); "+
			"this agent runs only signed requests", a.cfg.Server)
	}
	key, err := ParseRequestKey(b.RequestKey)
	if err != nil {
		return nil, fmt.Errorf("agent: bootstrap answer: %w", err)
	}
	if a.cfg.RequestKey != "" {
		pinned, err := ParseRequestKey(a.cfg.RequestKey)
		if err != nil {
			return nil, fmt.Errorf("agent: request-key: %w", err)
		}
		if !pinned.Equal(key) {
			return nil, fmt.Errorf("agent: the server at %s signs with %s, not the pinned request key %s",
				a.cfg.Server, b.RequestKey, a.cfg.RequestKey)
		}
	}
	return key, nil
}

func (a *Agent) connect(urls []string) error {
	opts := []nats.Option{nats.Name("gaffer-agent " + a.name), nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond), nats.CustomInboxPrefix(ToAgent(a.name) + ".inbox"),
		nats.ReconnectHandler(func(*nats.Conn) { a.signal() }),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				a.log.Warn("disconnected from NATS", "error", err)
			}
		})}
	if a.cfg.NATSCreds != "" {
		opts = append(opts, nats.UserCredentials(a.cfg.NATSCreds))
	} else {
		opts = append(opts, nats.UserInfo(NATSUserPrefix+a.name, a.cfg.Token))
	}
	if a.cfg.TLS != nil {
		// A server with --tls advertises tls:// addresses, which make the
		// connection TLS: the token then goes only to a server with a
		// certificate from the pinned CA. A nats:// address given with
		// --nats-url (an external cluster) is TLS when its server says so.
		tc := a.cfg.TLS.Clone()
		opts = append(opts, func(o *nats.Options) error { o.TLSConfig = tc; return nil })
	}
	nc, err := nats.Connect(strings.Join(urls, ","), opts...)
	if err != nil {
		return fmt.Errorf("agent %s: connect to NATS %s: %w", a.name, strings.Join(urls, ","), err)
	}
	a.nc = nc
	return nil
}

// Reload reads the actions directory again and registers the new list
// with the server (`gaffer agent` does it on SIGHUP).
func (a *Agent) Reload() error {
	actions, errs := LoadActions(a.cfg.ActionsDir)
	for _, err := range errs {
		a.log.Warn("action not loaded", "error", err)
	}
	if len(actions) == 0 && len(errs) > 0 {
		return fmt.Errorf("agent: no usable action in %s: %w", a.cfg.ActionsDir, errors.Join(errs...))
	}
	a.mu.Lock()
	a.actions = actions
	a.mu.Unlock()
	a.rehello.Store(true) // tell the server the new list
	a.signal()
	return nil
}

func (a *Agent) installBundles(ctx context.Context) error {
	locks, err := ReadLocks(a.cfg.ActionsDir)
	if err != nil {
		return fmt.Errorf("agent: %w", err)
	}
	for _, l := range locks {
		if Installed(a.cfg.ActionsDir, l) {
			continue
		}
		var reply BundleReply
		if err := a.request(ctx, VerbBundle, BundleRequest{Name: l.Name, Version: l.Version}, &reply, 30*time.Second); err != nil {
			return fmt.Errorf("agent: fetch bundle %s %s: %w", l.Name, l.Version, err)
		}
		if reply.Error != "" {
			return fmt.Errorf("agent: fetch bundle %s %s: %s", l.Name, l.Version, reply.Error)
		}
		if err := InstallBundle(a.cfg.ActionsDir, l, reply.Data); err != nil {
			return fmt.Errorf("agent: %w", err)
		}
		a.log.Info("installed bundle", "name", l.Name, "version", l.Version, "sha256", l.SHA256)
	}
	return nil
}

// Facts returns what the agent registers.
func (a *Agent) Facts() Facts {
	a.mu.Lock()
	defer a.mu.Unlock()
	f := Facts{Name: a.name, Hostname: a.cfg.Hostname, OS: runtime.GOOS, Arch: runtime.GOARCH, Tags: a.cfg.Tags,
		Version: Version, Boot: a.boot}
	for _, act := range a.actions {
		f.Actions = append(f.Actions, act.Info())
	}
	sort.Slice(f.Actions, func(i, j int) bool { return f.Actions[i].Name < f.Actions[j].Name })
	return f
}

func (a *Agent) request(ctx context.Context, verb string, body, out any, timeout time.Duration) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	msg, err := a.nc.RequestWithContext(ctx, FromAgent(a.name)+"."+verb, b)
	if err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(msg.Data, out)
}

func (a *Agent) publish(verb string, body any) {
	b, _ := json.Marshal(body)
	a.nc.Publish(FromAgent(a.name)+"."+verb, b)
}

func (a *Agent) signal() {
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// Run serves run, cancel and status requests until ctx ends, registering
// with the server, sending heartbeats and delivering results until each is
// acknowledged. Running actions are cancelled when it returns.
func (a *Agent) Run(ctx context.Context) error {
	defer a.nc.Close()
	prefix := ToAgent(a.name) + "."
	for verb, h := range map[string]nats.MsgHandler{VerbRun: a.handleRun, VerbCancel: a.handleCancel, VerbStatus: a.handleStatus} {
		if _, err := a.nc.Subscribe(prefix+verb, h); err != nil {
			return fmt.Errorf("agent %s: subscribe: %w", a.name, err)
		}
	}
	if err := a.nc.Flush(); err != nil {
		return fmt.Errorf("agent %s: %w", a.name, err)
	}
	registered := false
	tick := time.NewTimer(0)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			a.mu.Lock()
			for _, cancel := range a.running {
				cancel()
			}
			a.mu.Unlock()
			return nil
		case <-a.wake:
			registered = registered && a.nc.IsConnected()
		case <-tick.C:
		}
		if a.rehello.Swap(false) {
			registered = false
		}
		if !registered {
			var hr HelloReply
			if err := a.request(ctx, VerbHello, a.Facts(), &hr, 5*time.Second); err != nil {
				a.log.Warn("register with the server", "error", err)
			} else {
				registered = true
				if hr.Heartbeat > 0 {
					a.hbEvery = hr.Heartbeat
				}
				a.log.Info("registered", "hostname", a.cfg.Hostname, "actions", len(a.actions))
			}
		}
		if registered {
			a.publish(VerbHeartbeat, Heartbeat{Boot: a.boot, Running: a.runningIDs()})
		}
		a.deliver(ctx)
		next := a.hbEvery
		if a.pending() || !registered {
			next = min(next, time.Second)
		}
		tick.Reset(next)
	}
}

func (a *Agent) runningIDs() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]string, 0, len(a.running))
	for id := range a.running {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

func (a *Agent) pending() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, f := range a.finished {
		if !f.acked {
			return true
		}
	}
	return false
}

// deliver sends each unacknowledged result, and forgets old ones.
func (a *Agent) deliver(ctx context.Context) {
	a.mu.Lock()
	var todo []Result
	for id, f := range a.finished {
		if !f.acked {
			todo = append(todo, f.res)
		} else if time.Since(f.at) > keepResults {
			delete(a.finished, id)
		}
	}
	a.mu.Unlock()
	for _, r := range todo {
		if err := a.request(ctx, VerbResult, r, nil, 5*time.Second); err != nil {
			a.log.Warn("deliver result", "run", r.Run, "error", err)
			continue
		}
		a.mu.Lock()
		f := a.finished[r.Run]
		f.acked, f.at = true, time.Now()
		a.finished[r.Run] = f
		a.mu.Unlock()
	}
}

func (a *Agent) reply(m *nats.Msg, v any) {
	if m.Reply == "" {
		return
	}
	b, _ := json.Marshal(v)
	m.Respond(b)
}

// open checks a signed request from the server and returns its body; a
// refusal is logged.
func (a *Agent) open(m *nats.Msg, verb, boot string) (json.RawMessage, error) {
	body, err := a.verifier.Open(m.Data, verb, boot)
	if err != nil {
		a.log.Warn("refused a request", "verb", verb, "error", err)
		return nil, fmt.Errorf("agent %s refused the %s request: %w", a.name, verb, err)
	}
	return body, nil
}

func (a *Agent) handleRun(m *nats.Msg) {
	body, err := a.open(m, VerbRun, a.boot)
	if err != nil {
		a.reply(m, RunReply{Error: err.Error(), Retry: errors.Is(err, ErrOtherBoot)})
		return
	}
	var req RunRequest
	if err := json.Unmarshal(body, &req); err != nil || req.Run == "" {
		a.reply(m, RunReply{Error: "malformed run request"})
		return
	}
	a.mu.Lock()
	act := a.actions[req.Action]
	_, busy := a.running[req.Run]
	_, done := a.finished[req.Run]
	a.mu.Unlock()
	if busy || done {
		a.reply(m, RunReply{Accepted: true}) // a repeated request: the run is in hand
		if done {
			a.markUnacked(req.Run)
		}
		return
	}
	if act == nil {
		a.log.Warn("refused an undeclared action", "action", req.Action, "run", req.Run)
		a.reply(m, RunReply{Error: fmt.Sprintf("action %q is not declared on this agent", req.Action)})
		return
	}
	params, err := act.CheckParams(req.Params)
	if err != nil {
		a.reply(m, RunReply{Error: err.Error()})
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	a.mu.Lock()
	a.running[req.Run] = cancel
	a.mu.Unlock()
	a.reply(m, RunReply{Accepted: true})
	go a.execute(ctx, cancel, act, req, params)
}

func (a *Agent) execute(ctx context.Context, cancel context.CancelFunc, act *Action, req RunRequest, params map[string]any) {
	defer cancel()
	seq := 0
	var seqMu sync.Mutex
	res := act.Exec(ctx, req.Run, params, req.Timeout, func(stream string, data []byte) {
		seqMu.Lock()
		seq++
		n := seq
		seqMu.Unlock()
		a.publish(VerbOutput, Output{Run: req.Run, Stream: stream, Seq: n, Data: data})
	})
	a.log.Info("action finished", "action", act.Name, "run", req.Run, "status", res.Status, "exit_code", res.ExitCode)
	a.mu.Lock()
	delete(a.running, req.Run)
	a.finished[req.Run] = finishedRun{res: res, at: time.Now()}
	a.mu.Unlock()
	a.signal()
}

func (a *Agent) markUnacked(run string) {
	a.mu.Lock()
	if f, ok := a.finished[run]; ok {
		f.acked = false
		a.finished[run] = f
	}
	a.mu.Unlock()
	a.signal()
}

func (a *Agent) handleCancel(m *nats.Msg) {
	body, err := a.open(m, VerbCancel, a.boot)
	if err != nil {
		return
	}
	var req CancelRequest
	if json.Unmarshal(body, &req) != nil {
		return
	}
	a.mu.Lock()
	cancel := a.running[req.Run]
	a.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

func (a *Agent) handleStatus(m *nats.Msg) {
	// Any life of the agent answers: a new life tells the server, by its
	// boot, that the runs of the old one are lost.
	body, err := a.open(m, VerbStatus, "")
	if err != nil {
		a.reply(m, StatusReply{Error: err.Error()})
		return
	}
	var req StatusRequest
	if err := json.Unmarshal(body, &req); err != nil {
		a.reply(m, StatusReply{Error: "malformed status request"})
		return
	}
	out := StatusReply{Boot: a.boot, Runs: map[string]string{}}
	for _, id := range req.Runs {
		a.mu.Lock()
		_, busy := a.running[id]
		f, done := a.finished[id]
		a.mu.Unlock()
		switch {
		case busy:
			out.Runs[id] = StatusRunning
		case done:
			out.Runs[id] = f.res.Status
			a.markUnacked(id)
		default:
			out.Runs[id] = StatusUnknown
		}
	}
	a.reply(m, out)
}
