package remediation

import (
	"context"
	"crypto/tls"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/gaffer-sre/gaffer/internal/platform/auth"
	"github.com/gaffer-sre/gaffer/internal/platform/tlsca"
	"github.com/gaffer-sre/gaffer/remediation/agent"
)

// DemoAgentName is the agent `gaffer serve --demo` runs inside its own
// process, so that the demo's runbook has a host to act on.
const DemoAgentName = "demo-agent"

// demoActions are the demo agent's actions: restart-service and
// service-status for demo services (demo-*) only, which touch nothing on
// the host but a state directory of the demo agent's own.
//
//go:embed demoactions
var demoActions embed.FS

// demoAgent is the running in-process agent.
type demoAgent struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// stop ends the agent and waits for it.
func (d *demoAgent) stop() {
	if d == nil {
		return
	}
	d.cancel()
	<-d.done
}

// startDemoAgent runs the demo agent in this process: its actions and
// token live in the data directory's demo-agent folder; it registers over
// the server's NATS like any agent, and is stopped with the service.
func (s *Service) startDemoAgent(ctx context.Context) error {
	if s.demoAgent != nil {
		return nil
	}
	dir := filepath.Join(s.deps.DataDir, DemoAgentName)
	actions := filepath.Join(dir, "actions")
	if err := writeDemoActions(actions); err != nil {
		return err
	}
	secret, err := s.demoAgentToken(ctx, filepath.Join(dir, "token"))
	if err != nil {
		return err
	}
	signer, err := s.agents.requestSigner(ctx)
	if err != nil {
		return err
	}
	urls := s.agents.natsURLs()
	var pinned *tls.Config
	if len(urls) > 0 && strings.HasPrefix(urls[0], "tls://") {
		// The server's --tls: its embedded NATS has a certificate of the
		// data directory's CA.
		if pinned, err = tlsca.ClientConfig(filepath.Join(s.deps.DataDir, tlsca.CertFile)); err != nil {
			return fmt.Errorf("remediation: demo agent: %w", err)
		}
	}
	a, err := agent.New(ctx, agent.Config{Token: secret, ActionsDir: actions, Tags: map[string]string{"role": "demo"},
		Hostname: "gaffer-demo", Now: s.now, Log: s.log.With("demo", true), TLS: pinned,
		Bootstrap: &agent.Bootstrap{Name: DemoAgentName, NATS: urls, RequestKey: signer.PublicKey()}})
	if err != nil {
		return fmt.Errorf("remediation: demo agent: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	d := &demoAgent{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(d.done)
		if err := a.Run(runCtx); err != nil {
			s.log.Error("demo agent stopped", "error", err)
		}
	}()
	s.demoAgent = d
	return nil
}

// writeDemoActions writes the demo actions under dir afresh, scripts
// executable.
func writeDemoActions(dir string) error {
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remediation: demo agent actions: %w", err)
	}
	return fs.WalkDir(demoActions, "demoactions", func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		out := filepath.Join(dir, filepath.FromSlash(strings.TrimPrefix(p, "demoactions")))
		if e.IsDir() {
			return os.MkdirAll(out, 0o700)
		}
		b, err := demoActions.ReadFile(p)
		if err != nil {
			return err
		}
		mode := os.FileMode(0o600)
		if path.Ext(p) == ".sh" {
			mode = 0o700
		}
		if err := os.WriteFile(out, b, mode); err != nil {
			return fmt.Errorf("remediation: demo agent actions: %w", err)
		}
		return nil
	})
}

// demoAgentToken returns the demo agent's token secret, kept in file: the
// one written by an earlier start while it still works, or a new one
// (which revokes the agent's earlier tokens).
func (s *Service) demoAgentToken(ctx context.Context, file string) (string, error) {
	if b, err := os.ReadFile(file); err == nil {
		secret := strings.TrimSpace(string(b))
		if p, err := s.tokens.Verify(ctx, secret); err == nil && p.Identity == agent.NATSUserPrefix+DemoAgentName {
			return secret, nil
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("remediation: demo agent token: %w", err)
	}
	demo := &auth.Principal{Name: "demo", Identity: "demo", Scopes: []string{auth.AdminScope}}
	tok, err := s.agents.mint(ctx, DemoAgentName, demo)
	if err != nil {
		return "", fmt.Errorf("remediation: demo agent token: %w", err)
	}
	if err := os.WriteFile(file, []byte(tok.Secret+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("remediation: demo agent token: %w", err)
	}
	return tok.Secret, nil
}
