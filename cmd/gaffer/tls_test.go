package main

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/internal/platform/tlsca"
	"github.com/gaffer-sre/gaffer/remediation"
)

// tlsServe is a `gaffer serve --tls` process and a client pinning its CA.
type tlsServe struct {
	bin, dir, caFile, admin, nats string
	proc                          *platformtest.Process
	client                        *http.Client
}

// startServeTLS runs `gaffer serve --tls` and waits until /readyz answers
// 200 over HTTPS verified with <data-dir>/ca.pem.
func startServeTLS(t *testing.T, extra ...string) *tlsServe {
	t.Helper()
	return startServeTLSPinning(t, "", extra...)
}

// startServeTLSPinning is startServeTLS with clients pinning caFile
// instead of <data-dir>/ca.pem.
func startServeTLSPinning(t *testing.T, caFile string, extra ...string) *tlsServe {
	t.Helper()
	s := &tlsServe{bin: platformtest.BuildGaffer(t), dir: t.TempDir(), nats: platformtest.FreeAddr(t), caFile: caFile}
	if s.caFile == "" {
		s.caFile = filepath.Join(s.dir, tlsca.CertFile)
	}
	addr := platformtest.FreeAddr(t)
	args := append([]string{"serve", "--tls", "--listen", addr, "--data-dir", s.dir, "--nats-listen", s.nats}, extra...)
	s.proc = platformtest.StartProcess(t, s.bin, args...)
	s.proc.URL = "https://" + addr
	deadline := time.Now().Add(60 * time.Second)
	for {
		if s.client == nil {
			if cfg, err := tlsca.ClientConfig(s.caFile); err == nil {
				s.client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}
			}
		}
		if s.client != nil {
			if resp, err := s.client.Get(s.proc.URL + "/readyz"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					break
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("gaffer serve --tls not ready after 60s; log:\n%s", s.proc.Log())
		}
		time.Sleep(20 * time.Millisecond)
	}
	b, err := os.ReadFile(filepath.Join(s.dir, "admin.token"))
	if err != nil {
		t.Fatal(err)
	}
	s.admin = strings.TrimSpace(string(b))
	return s
}

// call sends a request over the pinned client as admin (see callWith).
func (s *tlsServe) call(t *testing.T, method, path string, body, out any) int {
	t.Helper()
	return callWith(t, s.client, method, s.proc.URL+path, s.admin, body, out)
}

// gaffer runs a client subcommand to completion with env added.
func (s *tlsServe) gaffer(env []string, args ...string) (string, error) {
	cmd := exec.Command(s.bin, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// otherCA is a CA certificate file of another Gaffer installation.
func otherCA(t *testing.T) string {
	dir := t.TempDir()
	if _, _, err := tlsca.LoadOrCreate(dir, time.Now()); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, tlsca.CertFile)
}

// TestServeTLS is issue #15 item 9 for HTTPS: `serve --tls` creates its
// CA (key 0600), answers HTTPS that verifies with ca.pem, refuses plain
// HTTP, serves the CA at a public route with the fingerprint it logged,
// sets Secure session cookies, and is refused by a client pinning
// another CA.
func TestServeTLS(t *testing.T) {
	s := startServeTLS(t)
	if fi, err := os.Stat(filepath.Join(s.dir, tlsca.KeyFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("CA key: %v %v", fi, err)
	}

	plain := "http" + strings.TrimPrefix(s.proc.URL, "https")
	resp, err := http.Get(plain + "/readyz")
	if err == nil {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "HTTPS") {
			t.Fatalf("plain HTTP was answered: %d %s", resp.StatusCode, body)
		}
	}

	wrong, _ := tlsca.ClientConfig(otherCA(t))
	if _, err := (&http.Client{Transport: &http.Transport{TLSClientConfig: wrong}}).Get(s.proc.URL + "/readyz"); err == nil ||
		!strings.Contains(err.Error(), "certificate signed by unknown authority") {
		t.Fatalf("a client pinning another CA: %v", err)
	}

	// The bootstrap bundle: public, the file's bytes, the logged fingerprint.
	resp, err = s.client.Get(s.proc.URL + "/api/v1/tls/ca")
	if err != nil {
		t.Fatal(err)
	}
	served, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	onDisk, _ := os.ReadFile(s.caFile)
	if resp.StatusCode != 200 || !bytes.Equal(served, onDisk) {
		t.Fatalf("GET /api/v1/tls/ca: %d %q", resp.StatusCode, served)
	}
	certs, _ := tlsca.ParseCertificates(onDisk)
	fp := tlsca.Fingerprint(certs[0])
	if !strings.Contains(s.proc.Log(), "ca_fingerprint="+fp) || resp.Header.Get("X-Gaffer-CA-Fingerprint") != fp {
		t.Fatalf("fingerprint %s not logged or not in the header; log:\n%s", fp, s.proc.Log())
	}

	// A UI session cookie is Secure under TLS.
	form := url.Values{"token": {s.admin}, "next": {"/"}}
	req, _ := http.NewRequest("POST", s.proc.URL+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	noRedirect := *s.client
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err = noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || len(resp.Cookies()) == 0 || !resp.Cookies()[0].Secure {
		t.Fatalf("login over TLS: %d cookies %v", resp.StatusCode, resp.Header["Set-Cookie"])
	}
}

// TestCLIPinsTheCA: a client command against an https server works with
// --ca-file (or GAFFER_CA_FILE), fails without one with an error saying
// how to get it, and fails against a server whose certificate is not
// from the pinned CA. `gaffer tls fetch-ca` writes the bundle only when
// its fingerprint is the logged one.
func TestCLIPinsTheCA(t *testing.T) {
	s := startServeTLS(t)
	tokFile := filepath.Join(s.dir, "admin.token")
	base := []string{"agent", "list", "--server", s.proc.URL, "--token-file", tokFile}
	if out, err := s.gaffer(nil, append(base, "--ca-file", s.caFile)...); err != nil || !strings.Contains(out, "AGENT") {
		t.Fatalf("with --ca-file: %v\n%s", err, out)
	}
	if out, err := s.gaffer([]string{"GAFFER_CA_FILE=" + s.caFile}, base...); err != nil {
		t.Fatalf("with GAFFER_CA_FILE: %v\n%s", err, out)
	}
	out, err := s.gaffer(nil, base...)
	if err == nil || !strings.Contains(out, "no CA certificate is pinned") || !strings.Contains(out, "--ca-file") ||
		!strings.Contains(out, "gaffer tls fetch-ca") {
		t.Fatalf("without a CA file: %v\n%s", err, out)
	}
	if out, err := s.gaffer(nil, append(base, "--ca-file", otherCA(t))...); err == nil ||
		!strings.Contains(out, "certificate signed by unknown authority") {
		t.Fatalf("pinning another CA: %v\n%s", err, out)
	}

	fp := regexp.MustCompile(`ca_fingerprint=(sha256:[0-9a-f]{64})`).FindStringSubmatch(s.proc.Log())
	if fp == nil {
		t.Fatalf("no fingerprint in the log:\n%s", s.proc.Log())
	}
	fetched := filepath.Join(t.TempDir(), "ca.pem")
	wrongFP := "sha256:" + strings.Repeat("0", 64)
	if out, err := s.gaffer(nil, "tls", "fetch-ca", "--server", s.proc.URL, "--fingerprint", wrongFP, "--out", fetched); err == nil ||
		!strings.Contains(out, "not "+wrongFP) {
		t.Fatalf("fetch-ca with a wrong fingerprint: %v\n%s", err, out)
	}
	if _, err := os.Stat(fetched); err == nil {
		t.Fatal("fetch-ca wrote a CA whose fingerprint did not match")
	}
	if out, err := s.gaffer(nil, "tls", "fetch-ca", "--server", s.proc.URL, "--fingerprint", fp[1], "--out", fetched); err != nil {
		t.Fatalf("fetch-ca: %v\n%s", err, out)
	}
	if out, err := s.gaffer(nil, append(base, "--ca-file", fetched)...); err != nil {
		t.Fatalf("with the fetched CA: %v\n%s", err, out)
	}
}

// TestAgentAndWorkerOverTLS: with --tls the embedded NATS requires TLS;
// an agent pinning the CA bootstraps over HTTPS, connects over TLS NATS
// and runs an action; a worker joins the NATS verifying ca.pem; a plain
// NATS client and one pinning another CA are refused.
func TestAgentAndWorkerOverTLS(t *testing.T) {
	s := startServeTLS(t, "--job-poll-interval", "50ms", "--remediation-agent-heartbeat", "500ms")
	natsURL, err := os.ReadFile(filepath.Join(s.dir, "nats.url"))
	if err != nil || !strings.HasPrefix(string(natsURL), "tls://") {
		t.Fatalf("nats.url: %q %v", natsURL, err)
	}
	creds := strings.TrimSpace(strings.TrimPrefix(string(natsURL), "tls://"))
	if nc, err := nats.Connect("nats://"+creds, nats.MaxReconnects(0)); err == nil {
		nc.Close()
		t.Fatal("a plain NATS client connected")
	}
	wrong, _ := tlsca.ClientConfig(otherCA(t))
	if nc, err := nats.Connect("tls://"+creds, nats.Secure(wrong), nats.MaxReconnects(0)); err == nil {
		nc.Close()
		t.Fatal("a NATS client pinning another CA connected")
	}
	pinned, _ := tlsca.ClientConfig(s.caFile)
	nc, err := nats.Connect("tls://"+creds, nats.Secure(pinned.Clone()), nats.MaxReconnects(0))
	if err != nil {
		t.Fatalf("a NATS client pinning the CA: %v", err)
	}
	if st, err := nc.TLSConnectionState(); err != nil || !st.HandshakeComplete {
		t.Fatal("the NATS connection is not TLS")
	}
	nc.Close()

	var tok remediation.AgentToken
	if code := s.call(t, "POST", "/api/v1/remediation/agents/h1/token", nil, &tok); code != 201 {
		t.Fatalf("agent token: %d", code)
	}
	tokFile := filepath.Join(t.TempDir(), "token")
	os.WriteFile(tokFile, []byte(tok.Secret), 0o600)
	actions := copyActions(t)
	noCA, err := s.gaffer(nil, "agent", "--server", s.proc.URL, "--token-file", tokFile, "--actions-dir", actions)
	if err == nil || !strings.Contains(noCA, "no CA certificate is pinned") {
		t.Fatalf("agent without a CA: %v\n%s", err, noCA)
	}
	ag := platformtest.StartProcess(t, s.bin, "agent", "--server", s.proc.URL, "--token-file", tokFile,
		"--actions-dir", actions, "--hostname", "h1.test", "--ca-file", s.caFile)
	platformtest.Eventually(t, "agent h1 online", func() bool {
		var page struct{ Items []remediation.AgentInfo }
		s.call(t, "GET", "/api/v1/remediation/agents", nil, &page)
		return len(page.Items) == 1 && page.Items[0].State == "online"
	})
	if code := s.call(t, "POST", "/api/v1/remediation/runbooks", fmt.Sprintf(sleeperRunbook, false), nil); code >= 300 {
		t.Fatalf("apply runbook: %d", code)
	}
	var ex remediation.Execution
	if code := s.call(t, "POST", "/api/v1/remediation/runbooks/sleeper/run", map[string]any{"params": map[string]any{"seconds": 0}}, &ex); code != 201 {
		t.Fatalf("run: %d", code)
	}
	platformtest.Eventually(t, "the run to finish", func() bool {
		s.call(t, "GET", "/api/v1/remediation/executions/"+ex.ID, nil, &ex)
		return ex.FinishedAt != nil
	})
	if ex.Status != "succeeded" {
		t.Fatalf("run over TLS: %s %s\nagent log:\n%s", ex.Status, ex.Error, ag.Log())
	}

	w := platformtest.StartProcess(t, s.bin, "worker", "--data-dir", s.dir, "--job-poll-interval", "50ms")
	platformtest.Eventually(t, "worker to be ready", func() bool { return strings.Contains(w.Log(), "worker is ready") })
	bad := platformtest.StartProcess(t, s.bin, "worker", "--data-dir", s.dir, "--ca-file", otherCA(t))
	platformtest.Eventually(t, "the worker pinning another CA to fail", func() bool {
		return strings.Contains(bad.Log(), "certificate signed by unknown authority")
	})
	if err := bad.Cmd.Wait(); err == nil {
		t.Fatalf("a worker pinning another CA kept running:\n%s", bad.Log())
	}
	if strings.Contains(bad.Log(), creds) {
		t.Fatalf("the worker's error shows the NATS password:\n%s", bad.Log())
	}
}

// TestServeOperatorCertificate: with --tls-cert/--tls-key the server
// presents the operator's certificate on HTTPS and NATS, creates no CA
// of its own and serves no bootstrap bundle.
func TestServeOperatorCertificate(t *testing.T) {
	opsDir := t.TempDir()
	ca, _, err := tlsca.LoadOrCreate(opsDir, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	names, _ := tlsca.ParseNames([]string{"127.0.0.1"})
	cert, err := ca.Issue(names, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(opsDir, "tls.crt"), filepath.Join(opsDir, "tls.key")
	var chain []byte
	for _, der := range cert.Certificate {
		chain = append(chain, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	os.WriteFile(certFile, chain, 0o644)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600)

	s := startServeTLSPinning(t, filepath.Join(opsDir, tlsca.CertFile), "--tls-cert", certFile, "--tls-key", keyFile)
	for _, f := range []string{tlsca.CertFile, tlsca.KeyFile} {
		if _, err := os.Stat(filepath.Join(s.dir, f)); err == nil {
			t.Errorf("%s created although the operator's certificate is used", f)
		}
	}
	resp, err := s.client.Get(s.proc.URL + "/api/v1/tls/ca")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(body), "operator") {
		t.Fatalf("bootstrap bundle with an operator's certificate: %d %s", resp.StatusCode, body)
	}
	natsURL, _ := os.ReadFile(filepath.Join(s.dir, "nats.url"))
	pinned, _ := tlsca.ClientConfig(s.caFile)
	nc, err := nats.Connect(strings.TrimSpace(string(natsURL)), nats.Secure(pinned), nats.MaxReconnects(0))
	if err != nil {
		t.Fatalf("NATS with the operator's certificate: %v", err)
	}
	nc.Close()
	if out, err := s.gaffer(nil, "agent", "list", "--server", s.proc.URL, "--token-file", filepath.Join(s.dir, "admin.token"),
		"--ca-file", s.caFile); err != nil {
		t.Fatalf("CLI pinning the operator's CA: %v\n%s", err, out)
	}
}
