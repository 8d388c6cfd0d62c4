package remediation

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/gaffer-sre/gaffer/internal/platform/auth"
	"github.com/gaffer-sre/gaffer/internal/platform/bus"
	"github.com/gaffer-sre/gaffer/internal/platform/store"
	"github.com/gaffer-sre/gaffer/remediation/agent"
)

// AgentInfo is a registered agent as the API shows it.
type AgentInfo struct {
	Name         string             `json:"name"`
	Hostname     string             `json:"hostname"`
	OS           string             `json:"os"`
	Arch         string             `json:"arch"`
	Tags         map[string]string  `json:"tags"`
	Version      string             `json:"version"`
	Boot         string             `json:"boot"`
	Actions      []agent.ActionInfo `json:"actions"`
	RegisteredAt time.Time          `json:"registered_at"`
	LastSeen     time.Time          `json:"last_seen"`
	// State is online (heartbeats arrive), offline or revoked.
	State string `json:"state"`
}

// agents is the server's side of the agent protocol.
type agents struct {
	s            *Service
	db           *store.Store
	log          *slog.Logger
	heartbeat    time.Duration
	offlineAfter time.Duration
	now          func() time.Time

	// keyMu guards signer, loaded from the database on first use.
	keyMu  sync.Mutex
	signer *agent.RequestSigner
	// mintMu serialises this process's agent token mints (see mint).
	mintMu sync.Mutex

	mu       sync.Mutex
	secrets  map[string]string    // agent name -> the token it connected with
	verified map[string]time.Time // when each agent's token was last checked
	seen     map[string]time.Time // heartbeats not yet written
	runs     map[string][2]string // run ID -> execution, step key
	subs     []*nats.Subscription
}

func newAgents(s *Service) *agents {
	return &agents{s: s, db: s.db, log: s.log, heartbeat: s.settings.AgentHeartbeat, offlineAfter: 6 * s.settings.AgentHeartbeat, now: s.now,
		secrets: map[string]string{}, verified: map[string]time.Time{}, seen: map[string]time.Time{}, runs: map[string][2]string{}}
}

// requestSigner returns the signer of requests to agents, loading the
// installation's key on first use.
func (a *agents) requestSigner(ctx context.Context) (*agent.RequestSigner, error) {
	a.keyMu.Lock()
	defer a.keyMu.Unlock()
	if a.signer == nil {
		key, err := loadSigningKey(ctx, a.db, a.now())
		if err != nil {
			return nil, err
		}
		a.signer = agent.NewRequestSigner(key, a.now)
	}
	return a.signer, nil
}

// signed returns body signed for verb to agent name in its life boot.
func (a *agents) signed(ctx context.Context, name, boot, verb string, body any) ([]byte, error) {
	signer, err := a.requestSigner(ctx)
	if err != nil {
		return nil, err
	}
	return signer.Sign(name, boot, verb, body)
}

// authorize decides an agent's NATS connection: its password must be a
// valid token bound to the identity agent:<name> with the agent scope.
func (a *agents) authorize(c bus.ClientCredentials) (*bus.ClientGrant, error) {
	name := strings.TrimPrefix(c.User, agent.NATSUserPrefix)
	if err := agent.ValidName(name); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p, err := a.s.tokens.Verify(ctx, c.Password)
	if err != nil {
		a.log.Warn("agent refused", "agent", name, "remote", c.Remote, "error", err)
		return nil, err
	}
	if p.Identity != c.User || !hasScope(p, agent.AgentScope) {
		a.log.Warn("agent refused: token is not this agent's", "agent", name, "remote", c.Remote)
		return nil, errors.New("token is not bound to this agent")
	}
	a.mu.Lock()
	a.secrets[name] = c.Password
	a.mu.Unlock()
	return &bus.ClientGrant{Name: c.User, Publish: []string{agent.FromAgent(name) + ".>"},
		Subscribe: []string{agent.ToAgent(name) + ".>"}, Responses: true}, nil
}

// hasScope reports whether p holds scope itself (admin does not count:
// an admin token is not an agent).
func hasScope(p *auth.Principal, scope string) bool {
	for _, s := range p.Scopes {
		if s == scope {
			return true
		}
	}
	return false
}

// natsURLs are the addresses agents are told, without credentials.
func (a *agents) natsURLs() []string {
	if a.s.settings.AgentNATSURL != "" {
		return strings.Split(a.s.settings.AgentNATSURL, ",")
	}
	var out []string
	for _, raw := range strings.Split(a.s.bus.ClientURL, ",") {
		u, err := url.Parse(strings.TrimSpace(raw))
		if err != nil || u.Host == "" {
			continue
		}
		u.User = nil
		out = append(out, u.String())
	}
	return out
}

func (a *agents) start() error {
	if err := a.s.bus.HandleClientAuth(agent.NATSUserPrefix, a.authorize); err != nil && a.s.bus.Embedded() {
		return err
	}
	for verb, h := range map[string]func(string, *nats.Msg){agent.VerbHello: a.onHello, agent.VerbHeartbeat: a.onHeartbeat,
		agent.VerbOutput: a.onOutput, agent.VerbResult: a.onResult, agent.VerbBundle: a.onBundle} {
		h := h
		sub, err := a.s.bus.Conn.QueueSubscribe(agent.FromAnyAgent+verb, "remediation-"+a.s.install, func(m *nats.Msg) {
			parts := strings.Split(m.Subject, ".")
			if len(parts) != 4 {
				return
			}
			h(parts[2], m)
		})
		if err != nil {
			return fmt.Errorf("remediation: subscribe to agents: %w", err)
		}
		a.subs = append(a.subs, sub)
	}
	return a.s.bus.Conn.Flush()
}

func (a *agents) stop() {
	for _, s := range a.subs {
		s.Unsubscribe()
	}
}

func reply(m *nats.Msg, v any) {
	if m.Reply == "" {
		return
	}
	b, _ := json.Marshal(v)
	m.Respond(b)
}

func (a *agents) onHello(name string, m *nats.Msg) {
	var f agent.Facts
	if err := json.Unmarshal(m.Data, &f); err != nil {
		return
	}
	ctx := context.Background()
	tags, _ := json.Marshal(f.Tags)
	acts, _ := json.Marshal(f.Actions)
	now := a.now().UnixMilli()
	var prevBoot string
	err := a.db.InTx(ctx, func(tx *store.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT boot FROM remediation_agents WHERE name = ?`, name).Scan(&prevBoot)
		if errors.Is(err, sql.ErrNoRows) {
			_, err = tx.ExecContext(ctx, `INSERT INTO remediation_agents (name, hostname, os, arch, tags, version, boot, actions,
				registered_at, last_seen, revoked) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)`,
				name, f.Hostname, f.OS, f.Arch, string(tags), f.Version, f.Boot, string(acts), now, now)
			return err
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE remediation_agents SET hostname = ?, os = ?, arch = ?, tags = ?, version = ?, boot = ?,
			actions = ?, registered_at = ?, last_seen = ?, revoked = 0 WHERE name = ?`,
			f.Hostname, f.OS, f.Arch, string(tags), f.Version, f.Boot, string(acts), now, now, name)
		return err
	})
	if err != nil {
		a.log.Error("register agent", "agent", name, "error", err)
		return
	}
	reply(m, agent.HelloReply{Heartbeat: a.heartbeat})
	// Runs dispatched to an earlier life of this agent are lost.
	a.lostRuns(ctx, name, f.Boot, fmt.Sprintf("agent %s restarted during the action", name))
	a.s.agentRuns.lost(ctx, name, f.Boot, fmt.Sprintf("agent %s restarted during the action", name))
}

// lostRuns settles the steps dispatched to agent name other than to its
// life boot ("" for any): idempotent ones are retried, others wait for an
// operator.
func (a *agents) lostRuns(ctx context.Context, name, boot, why string) {
	rows, err := a.db.QueryContext(ctx, `SELECT execution_id, step_key, attempt, agent_boot, name FROM remediation_steps
		WHERE agent = ? AND status = ? AND run_id <> ''`, name, StepRunning)
	if err != nil {
		return
	}
	type lost struct {
		exec, key, boot, name string
		attempt               int
	}
	var list []lost
	for rows.Next() {
		var l lost
		rows.Scan(&l.exec, &l.key, &l.attempt, &l.boot, &l.name)
		if boot == "" || l.boot != boot {
			list = append(list, l)
		}
	}
	rows.Close()
	for _, l := range list {
		a.s.engine.lost(ctx, l.exec, l.key, l.attempt, why)
	}
}

// reverifyEvery is how often a connected agent's token is checked again,
// so that a revocation made outside this system (DELETE /api/v1/tokens)
// disconnects it; revoking through the agents API disconnects at once.
const reverifyEvery = 30 * time.Second

func (a *agents) onHeartbeat(name string, m *nats.Msg) {
	// last_seen is on the service's clock; the re-check of the token is
	// a rate limit measured on the wall clock, so that a fixed clock
	// neither stops re-checks nor makes every heartbeat one.
	wall := wallNow()
	a.mu.Lock()
	a.seen[name] = a.now()
	secret := a.secrets[name]
	due := wall.Sub(a.verified[name]) >= reverifyEvery
	if due {
		a.verified[name] = wall
	}
	a.mu.Unlock()
	if secret == "" || !due {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := a.s.tokens.Verify(ctx, secret); errors.Is(err, auth.ErrInvalidToken) {
		a.disconnect(name, "its token is no longer valid")
	}
}

// disconnect closes an agent's connections (its token was revoked).
func (a *agents) disconnect(name, why string) {
	a.mu.Lock()
	delete(a.secrets, name)
	a.mu.Unlock()
	n := a.s.bus.DisconnectUser(agent.NATSUserPrefix + name)
	a.db.ExecContext(context.Background(), `UPDATE remediation_agents SET revoked = 1 WHERE name = ?`, name)
	a.log.Warn("agent disconnected", "agent", name, "reason", why, "connections", n)
}

func (a *agents) onOutput(name string, m *nats.Msg) {
	var o agent.Output
	if json.Unmarshal(m.Data, &o) != nil {
		return
	}
	if isAgentRun(o.Run) {
		a.s.agentRuns.onOutput(name, o)
		return
	}
	a.mu.Lock()
	where, ok := a.runs[o.Run]
	a.mu.Unlock()
	if !ok {
		var ag string
		if err := a.db.QueryRowContext(context.Background(), `SELECT execution_id, step_key, agent FROM remediation_steps WHERE run_id = ?`,
			o.Run).Scan(&where[0], &where[1], &ag); err != nil || ag != name {
			return
		}
		a.track(o.Run, where[0], where[1])
	}
	a.s.logs.add(where[0], where[1], o.Stream, o.Data)
}

func (a *agents) track(run, execID, key string) {
	a.mu.Lock()
	a.runs[run] = [2]string{execID, key}
	a.mu.Unlock()
}

func (a *agents) onResult(name string, m *nats.Msg) {
	var r agent.Result
	if err := json.Unmarshal(m.Data, &r); err != nil {
		reply(m, map[string]string{"error": "malformed result"})
		return
	}
	ctx := context.Background()
	if isAgentRun(r.Run) {
		if err := a.s.agentRuns.onResult(ctx, name, r); err != nil {
			a.log.Error("record agent result", "agent", name, "run", r.Run, "error", err)
			return // no acknowledgement: the agent sends it again
		}
		reply(m, map[string]bool{"ok": true})
		return
	}
	var execID, key, ag string
	var attempt int
	err := a.db.QueryRowContext(ctx, `SELECT execution_id, step_key, attempt, agent FROM remediation_steps WHERE run_id = ?`, r.Run).
		Scan(&execID, &key, &attempt, &ag)
	if err == nil && ag == name {
		a.s.logs.flushRun(execID, key)
		out := outcome{status: StepSucceeded, output: resultOutput2(name, r), started: r.Started}
		if r.Status != agent.StatusSucceeded {
			out.status = StepFailed
			out.err = fmt.Sprintf("%s on %s: %s", r.Action, name, firstNonEmpty(r.Error, r.Status))
			out.noRetry = r.Status == agent.StatusRejected || r.Status == agent.StatusCancelled
		}
		if err := a.s.engine.finish(ctx, execID, key, attempt, out); err != nil {
			a.log.Error("record agent result", "agent", name, "run", r.Run, "error", err)
			return // no acknowledgement: the agent sends it again
		}
	}
	a.mu.Lock()
	delete(a.runs, r.Run)
	a.mu.Unlock()
	reply(m, map[string]bool{"ok": true})
}

func resultOutput2(name string, r agent.Result) map[string]any {
	out := map[string]any{"agent": name, "status": r.Status, "exit_code": r.ExitCode, "stdout": r.Stdout, "stderr": r.Stderr,
		"duration_ms": r.Finished.Sub(r.Started).Milliseconds()}
	if r.Truncated {
		out["truncated"] = true
	}
	if len(r.Output) > 0 {
		out["output"] = r.Output
	}
	return out
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func (a *agents) onBundle(name string, m *nats.Msg) {
	var req agent.BundleRequest
	if json.Unmarshal(m.Data, &req) != nil {
		return
	}
	var out agent.BundleReply
	err := a.db.QueryRowContext(context.Background(), `SELECT sha256, data FROM remediation_bundles WHERE name = ? AND version = ?`,
		req.Name, req.Version).Scan(&out.SHA256, &out.Data)
	if err != nil {
		out.Error = fmt.Sprintf("no bundle %s version %s on the server", req.Name, req.Version)
	}
	reply(m, out)
}

// errRunNotStarted is the error of a run request an agent refused for a
// reason a fresh request may not have (it named an earlier life).
var errRunNotStarted = errors.New("the run did not start")

// run asks agent name, in its life boot, to start a run. A request the
// agent refused because it has restarted since is an error (the run did
// not start), not a refused run.
func (a *agents) run(ctx context.Context, name, boot string, req agent.RunRequest) (agent.RunReply, error) {
	var out agent.RunReply
	b, err := a.signed(ctx, name, boot, agent.VerbRun, req)
	if err != nil {
		return out, err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	msg, err := a.s.bus.Conn.RequestWithContext(ctx, agent.ToAgent(name)+"."+agent.VerbRun, b)
	if err != nil {
		return out, err
	}
	if err := json.Unmarshal(msg.Data, &out); err != nil {
		return out, fmt.Errorf("agent %s: run reply: %w", name, err)
	}
	if !out.Accepted && out.Retry {
		return out, fmt.Errorf("%w: agent %s: %s", errRunNotStarted, name, out.Error)
	}
	return out, nil
}

func (a *agents) cancel(name, run string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	b, err := a.signed(ctx, name, a.boot(name), agent.VerbCancel, agent.CancelRequest{Run: run})
	if err != nil {
		a.log.Error("cancel an agent's run", "agent", name, "run", run, "error", err)
		return
	}
	a.s.bus.Conn.Publish(agent.ToAgent(name)+"."+agent.VerbCancel, b)
}

// status asks an agent (whatever its life) what became of runs.
func (a *agents) status(ctx context.Context, name string, runs []string) (agent.StatusReply, error) {
	var out agent.StatusReply
	b, err := a.signed(ctx, name, "", agent.VerbStatus, agent.StatusRequest{Runs: runs})
	if err != nil {
		return out, err
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	msg, err := a.s.bus.Conn.RequestWithContext(ctx, agent.ToAgent(name)+"."+agent.VerbStatus, b)
	if err != nil {
		return out, err
	}
	if err := json.Unmarshal(msg.Data, &out); err != nil {
		return out, fmt.Errorf("agent %s: status reply: %w", name, err)
	}
	if out.Error != "" {
		return out, fmt.Errorf("agent %s: %s", name, out.Error)
	}
	return out, nil
}

// boot is the current life of agent name, as its last hello recorded it
// in the database (which any process of the installation may have
// handled).
func (a *agents) boot(name string) string {
	var b string
	a.db.QueryRowContext(context.Background(), `SELECT boot FROM remediation_agents WHERE name = ?`, name).Scan(&b)
	return b
}

// flushSeen writes heartbeats to the database and settles the runs of
// agents that went silent.
func (a *agents) flushSeen(ctx context.Context) {
	a.mu.Lock()
	seen := a.seen
	a.seen = map[string]time.Time{}
	a.mu.Unlock()
	if len(seen) > 0 {
		a.db.InTx(ctx, func(tx *store.Tx) error {
			for name, t := range seen {
				if _, err := tx.ExecContext(ctx, `UPDATE remediation_agents SET last_seen = ? WHERE name = ? AND last_seen < ?`,
					t.UnixMilli(), name, t.UnixMilli()); err != nil {
					return err
				}
			}
			return nil
		})
	}
	cutoff := a.now().Add(-a.offlineAfter).UnixMilli()
	rows, err := a.db.QueryContext(ctx, `SELECT DISTINCT s.agent FROM remediation_steps s JOIN remediation_agents a ON a.name = s.agent
		WHERE s.status = ? AND s.run_id <> '' AND a.last_seen < ?`, StepRunning, cutoff)
	if err != nil {
		return
	}
	var silent []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		silent = append(silent, n)
	}
	rows.Close()
	for _, n := range silent {
		a.lostRuns(ctx, n, "", fmt.Sprintf("agent %s stopped sending heartbeats during the action", n))
	}
	a.s.agentRuns.lostSilent(ctx, cutoff)
}

func (a *agents) list(ctx context.Context) ([]AgentInfo, error) {
	rows, err := a.db.QueryContext(ctx, `SELECT name, hostname, os, arch, tags, version, boot, actions, registered_at, last_seen, revoked
		FROM remediation_agents ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []AgentInfo{}
	cutoff := a.now().Add(-3 * a.heartbeat)
	for rows.Next() {
		var ai AgentInfo
		var tags, acts string
		var reg, seen int64
		var revoked int
		if err := rows.Scan(&ai.Name, &ai.Hostname, &ai.OS, &ai.Arch, &tags, &ai.Version, &ai.Boot, &acts, &reg, &seen, &revoked); err != nil {
			return nil, err
		}
		json.Unmarshal([]byte(tags), &ai.Tags)
		json.Unmarshal([]byte(acts), &ai.Actions)
		ai.RegisteredAt, ai.LastSeen = fromMS(reg), fromMS(seen)
		a.mu.Lock()
		if t, ok := a.seen[ai.Name]; ok && t.After(ai.LastSeen) {
			ai.LastSeen = t
		}
		a.mu.Unlock()
		switch {
		case revoked != 0:
			ai.State = "revoked"
		case ai.LastSeen.After(cutoff):
			ai.State = "online"
		default:
			ai.State = "offline"
		}
		out = append(out, ai)
	}
	return out, rows.Err()
}

// selectAgents returns the online agents a step targets, by name.
func (a *agents) selectAgents(ctx context.Context, t *Targets) ([]AgentInfo, error) {
	all, err := a.list(ctx)
	if err != nil {
		return nil, err
	}
	var out []AgentInfo
	for _, ai := range all {
		if ai.State != "online" {
			continue
		}
		if t.Agent != "" && ai.Name != t.Agent {
			continue
		}
		ok := true
		for k, v := range t.Tags {
			got, has := ai.Tags[k]
			if !has || (v != "*" && got != v) {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, ai)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
