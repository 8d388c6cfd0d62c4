package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/security/sshca"
	"golang.org/x/crypto/ssh"
)

// lookTool finds an OpenSSH program on PATH or in /usr/sbin.
func lookTool(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if p := filepath.Join("/usr/sbin", name); fileExists(p) {
		return p
	}
	return ""
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// lockedBuffer collects sshd's log from its goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startSSHD runs sshd in the foreground on a loopback port, trusting the
// user CA keys in caFile and reading revocations from krlFile.
func startSSHD(t *testing.T, sshd, keygen, dir, caFile, krlFile string) (int, *lockedBuffer) {
	t.Helper()
	hostKey := filepath.Join(dir, "host_ed25519")
	if out, err := exec.Command(keygen, "-q", "-t", "ed25519", "-N", "", "-f", hostKey).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen host key: %v\n%s", err, out)
	}
	if os.Geteuid() == 0 {
		os.MkdirAll("/run/sshd", 0o755) // Debian's privilege-separation directory
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	config := filepath.Join(dir, "sshd_config")
	os.WriteFile(config, []byte(fmt.Sprintf(`Port %d
ListenAddress 127.0.0.1
HostKey %s
PidFile %s
TrustedUserCAKeys %s
RevokedKeys %s
AuthorizedKeysFile none
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PermitRootLogin prohibit-password
StrictModes no
LogLevel VERBOSE
`, port, hostKey, filepath.Join(dir, "sshd.pid"), caFile, krlFile)), 0o600)
	log := &lockedBuffer{}
	cmd := exec.Command(sshd, "-D", "-e", "-f", config)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatalf("start sshd: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("sshd log:\n%s", log.String())
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
			return port, log
		}
		if time.Now().After(deadline) {
			t.Fatalf("sshd did not listen on %d:\n%s", port, log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestRealOpenSSH logs in to a real sshd with Gaffer's certificates: a
// valid one works; an expired one, one for another principal, one used
// from outside its source-address, and a revoked one are refused.
func TestRealOpenSSH(t *testing.T) {
	sshd, sshClient, keygen := lookTool("sshd"), lookTool("ssh"), lookTool("ssh-keygen")
	if sshd == "" || sshClient == "" || keygen == "" {
		t.Skip("sshd, ssh or ssh-keygen not found (install openssh-server and openssh-client): skipping the real-OpenSSH test")
	}
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	srv := platformtest.Start(t, platformtest.Options{Roles: []string{"sshca"}})
	ctx := context.Background()
	svc, _ := srv.Deps().Lookup("sshca")
	ca := svc.(*sshca.Service).Authority()
	// The test logs in as the current user (root in CI), which the default
	// blocklist forbids: this policy allows any principal.
	if _, err := ca.PutPolicy(ctx, sshca.Policy{Name: "sshd-test", Identities: []string{"tester"}, Principals: []string{"*"},
		MaxValidity: "1h", UsernamePattern: ".*", UsernameBlocklist: []string{}}, "test"); err != nil {
		t.Fatal(err)
	}
	tester := identityToken(t, srv, "tester", sshca.ScopeSign)
	dir := t.TempDir()
	caFile, krlFile := filepath.Join(dir, "trusted_user_ca_keys"), filepath.Join(dir, "revoked.krl")
	os.WriteFile(caFile, []byte(mustCLI(t, srv, "", "sshca", "ca-pubkey", "--type", "user")), 0o644)
	mustCLI(t, srv, "", "sshca", "krl", "--out", krlFile)
	port, sshdLog := startSSHD(t, sshd, keygen, dir, caFile, krlFile)

	// issue signs a new key and returns the key and certificate paths.
	n := 0
	issue := func(args ...string) (string, string) {
		n++
		key, pub := userKeyFiles(t, dir, fmt.Sprintf("key%d", n))
		cert := key + "-cert.pub"
		mustCLI(t, srv, tester, append([]string{"sshca", "sign", "--pubkey", pub, "--out", cert}, args...)...)
		if out, err := exec.Command(keygen, "-L", "-f", cert).CombinedOutput(); err != nil {
			t.Fatalf("ssh-keygen -L -f %s: %v\n%s", cert, err, out)
		}
		return key, cert
	}
	login := func(key, cert string) (bool, string) {
		cmd := exec.Command(sshClient, "-F", "/dev/null", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
			"-o", "UserKnownHostsFile=/dev/null", "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none",
			"-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR", "-i", key, "-o", "CertificateFile="+cert,
			"-p", fmt.Sprint(port), me.Username+"@127.0.0.1", "true")
		out, err := cmd.CombinedOutput()
		return err == nil, string(out)
	}
	expect := func(what string, key, cert string, want bool) {
		t.Helper()
		if ok, out := login(key, cert); ok != want {
			t.Errorf("%s: login succeeded=%v, want %v\nssh: %s", what, ok, want, out)
		}
	}

	validKey, validCert := issue("--principal", me.Username)
	expect("valid certificate", validKey, validCert, true)
	srcKey, srcCert := issue("--principal", me.Username, "--source-address", "127.0.0.1/32")
	expect("source-address 127.0.0.1/32", srcKey, srcCert, true)
	outKey, outCert := issue("--principal", me.Username, "--source-address", "10.0.0.0/8")
	expect("source-address 10.0.0.0/8", outKey, outCert, false)
	otherKey, otherCert := issue("--principal", "someone-else")
	expect("certificate for another principal", otherKey, otherCert, false)
	expKey, expCert := issue("--principal", me.Username, "--validity", "1s")
	// sshd reads the wall clock: wait until it is past the certificate's
	// valid-before second.
	until := certValidBefore(t, expCert)
	platformtest.Eventually(t, "the certificate to expire", func() bool { return time.Now().Unix() > until })
	expect("expired certificate", expKey, expCert, false)

	revKey, revCert := issue("--principal", me.Username)
	expect("certificate before revocation", revKey, revCert, true)
	certs, _, err := ca.ListCerts(ctx, sshca.CertFilter{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	mustCLI(t, srv, srv.AdminToken, "sshca", "revoke", "--serial", fmt.Sprint(certs[0].Serial), "--reason", "test")
	mustCLI(t, srv, "", "sshca", "krl", "--out", krlFile)
	expect("revoked certificate", revKey, revCert, false)
	expect("valid certificate after another's revocation", validKey, validCert, true)

	// Each refusal was for the reason the test meant.
	log := sshdLog.String()
	for _, want := range []string{"Accepted publickey", "ID request[", "not from a permitted source address",
		"name is not a listed principal", "Certificate invalid: expired", "revoked by file"} {
		if !strings.Contains(log, want) {
			t.Errorf("sshd log lacks %q", want)
		}
	}
}

// certValidBefore reads an OpenSSH certificate file's valid-before time
// (Unix seconds).
func certValidBefore(t *testing.T, file string) int64 {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey(b)
	if err != nil {
		t.Fatalf("parse %s: %v", file, err)
	}
	cert, ok := pub.(*ssh.Certificate)
	if !ok {
		t.Fatalf("%s is not a certificate", file)
	}
	return int64(cert.ValidBefore)
}
