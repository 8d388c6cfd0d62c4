package tlsca

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestCACreatedOnceWithOwnerOnlyKey(t *testing.T) {
	dir := t.TempDir()
	ca, created, err := LoadOrCreate(dir, t0)
	if err != nil || !created {
		t.Fatalf("create: %v created=%v", err, created)
	}
	fi, err := os.Stat(filepath.Join(dir, KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("%s is %04o, want 0600", KeyFile, fi.Mode().Perm())
	}
	if !ca.Cert.IsCA || !ca.Cert.MaxPathLenZero || ca.Cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		t.Fatalf("not a CA certificate limited to issuing leaves: %+v", ca.Cert)
	}
	if !ca.Cert.NotBefore.Before(t0) || !ca.Cert.NotAfter.Equal(t0.Add(CAValidity).Truncate(time.Second)) {
		t.Fatalf("validity %s .. %s", ca.Cert.NotBefore, ca.Cert.NotAfter)
	}
	again, created, err := LoadOrCreate(dir, t0.Add(time.Hour))
	if err != nil || created {
		t.Fatalf("reload: %v created=%v", err, created)
	}
	if Fingerprint(again.Cert) != Fingerprint(ca.Cert) || !strings.HasPrefix(Fingerprint(ca.Cert), "sha256:") ||
		len(Fingerprint(ca.Cert)) != len("sha256:")+64 {
		t.Fatalf("reloaded CA differs: %s vs %s", Fingerprint(again.Cert), Fingerprint(ca.Cert))
	}
}

func TestCALoadRefusals(t *testing.T) {
	cases := []struct {
		name, want string
		spoil      func(dir string)
	}{
		{"key readable by others", "chmod 600", func(dir string) { os.Chmod(filepath.Join(dir, KeyFile), 0o644) }},
		{"key missing", "restore the key", func(dir string) { os.Remove(filepath.Join(dir, KeyFile)) }},
		{"certificate missing", "remove both files", func(dir string) { os.Remove(filepath.Join(dir, CertFile)) }},
		{"certificate of another key", "does not belong", func(dir string) {
			other := t.TempDir()
			LoadOrCreate(other, t0)
			b, _ := os.ReadFile(filepath.Join(other, CertFile))
			os.WriteFile(filepath.Join(dir, CertFile), b, 0o644)
		}},
		{"garbage certificate", "no PEM CERTIFICATE", func(dir string) { os.WriteFile(filepath.Join(dir, CertFile), []byte("x"), 0o644) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if _, _, err := LoadOrCreate(dir, t0); err != nil {
				t.Fatal(err)
			}
			c.spoil(dir)
			if _, _, err := LoadOrCreate(dir, t0); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error saying %q", err, c.want)
			}
		})
	}
	dir := t.TempDir()
	LoadOrCreate(dir, t0)
	if _, _, err := LoadOrCreate(dir, t0.Add(CAValidity+time.Hour)); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("expired CA: %v", err)
	}
}

func TestIssuedCertificateNamesAndValidity(t *testing.T) {
	ca, _, err := LoadOrCreate(t.TempDir(), t0)
	if err != nil {
		t.Fatal(err)
	}
	names, err := ParseNames([]string{"gaffer.example", "localhost", "127.0.0.1", "::1", "LOCALHOST", "", "*.svc.example"})
	if err != nil {
		t.Fatal(err)
	}
	if len(names.DNS) != 3 || len(names.IPs) != 2 {
		t.Fatalf("names: %+v", names)
	}
	cert, err := ca.Issue(names, t0)
	if err != nil {
		t.Fatal(err)
	}
	leaf := cert.Leaf
	if !leaf.NotAfter.Equal(t0.Add(ServerValidity).Truncate(time.Second)) || !leaf.NotBefore.Before(t0) {
		t.Fatalf("validity %s .. %s", leaf.NotBefore, leaf.NotAfter)
	}
	if leaf.IsCA || len(leaf.ExtKeyUsage) != 1 || leaf.ExtKeyUsage[0] != x509.ExtKeyUsageServerAuth {
		t.Fatalf("leaf usage: CA=%v %v", leaf.IsCA, leaf.ExtKeyUsage)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	for _, name := range []string{"gaffer.example", "localhost", "127.0.0.1", "::1", "a.svc.example"} {
		if _, err := leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: roots, CurrentTime: t0}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	for _, name := range []string{"other.example", "10.0.0.1"} {
		if _, err := leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: roots, CurrentTime: t0}); err == nil {
			t.Errorf("%s verified but is not named", name)
		}
	}
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: "localhost", Roots: roots, CurrentTime: t0.Add(ServerValidity + time.Hour)}); err == nil {
		t.Error("verified after its validity")
	}
	other, _, _ := LoadOrCreate(t.TempDir(), t0)
	otherRoots := x509.NewCertPool()
	otherRoots.AddCert(other.Cert)
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: "localhost", Roots: otherRoots, CurrentTime: t0}); err == nil {
		t.Error("verified against another CA")
	}
}

func TestParseNamesRefusesNonNames(t *testing.T) {
	for _, bad := range []string{"exa mple.com", "-a.example", "a..b", "http://x", "a_b.example", strings.Repeat("a", 64) + ".example"} {
		if _, err := ParseNames([]string{bad}); err == nil || !strings.Contains(err.Error(), "tls-names") {
			t.Errorf("%q: %v", bad, err)
		}
	}
	if _, err := ParseNames(nil); err == nil {
		t.Error("no names accepted")
	}
}

func TestIssuerRenewsWhenAThirdIsLeft(t *testing.T) {
	ca, _, _ := LoadOrCreate(t.TempDir(), t0)
	now := t0
	names, _ := ParseNames([]string{"localhost"})
	iss, err := NewIssuer(ca, names, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	first := iss.Certificate()
	now = t0.Add(ServerValidity / 2)
	if iss.Certificate() != first {
		t.Fatal("renewed with half its validity left")
	}
	now = t0.Add(ServerValidity * 3 / 4)
	renewed := iss.Certificate()
	if renewed == first || !renewed.Leaf.NotAfter.After(first.Leaf.NotAfter) {
		t.Fatalf("not renewed with a quarter left: %s", renewed.Leaf.NotAfter)
	}
}

func TestServerAndClientConfigsHandshake(t *testing.T) {
	dir := t.TempDir()
	srv, err := NewServer(ServerOptions{DataDir: dir, Names: []string{"localhost", "127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	if !srv.Created || srv.CA == nil {
		t.Fatal("no CA created")
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", srv.Config)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	pinned, err := ClientConfig(filepath.Join(dir, CertFile))
	if err != nil {
		t.Fatal(err)
	}
	c, err := tls.Dial("tcp", ln.Addr().String(), pinned)
	if err != nil {
		t.Fatalf("pinned client: %v", err)
	}
	c.Close()
	otherDir := t.TempDir()
	LoadOrCreate(otherDir, time.Now())
	wrong, _ := ClientConfig(filepath.Join(otherDir, CertFile))
	if c, err := tls.Dial("tcp", ln.Addr().String(), wrong); err == nil {
		c.Close()
		t.Fatal("a client pinning another CA connected")
	}
	if _, err := ClientConfig(filepath.Join(dir, KeyFile)); err == nil || !strings.Contains(err.Error(), "ca-file") {
		t.Fatalf("a key file as CA: %v", err)
	}
}

func TestOperatorCertificate(t *testing.T) {
	if _, err := NewServer(ServerOptions{DataDir: t.TempDir(), CertFile: "x.pem"}); err == nil || !strings.Contains(err.Error(), "both") {
		t.Fatalf("cert without key: %v", err)
	}
	// An operator's certificate: here one issued by another Gaffer CA.
	dir := t.TempDir()
	ca, _, _ := LoadOrCreate(dir, time.Now())
	names, _ := ParseNames([]string{"ops.example"})
	cert, _ := ca.Issue(names, time.Now())
	certFile, keyFile := writePair(t, cert)
	srv, err := NewServer(ServerOptions{DataDir: t.TempDir(), CertFile: certFile, KeyFile: keyFile})
	if err != nil {
		t.Fatal(err)
	}
	if srv.CA != nil || srv.Leaf.Subject.CommonName != "ops.example" {
		t.Fatalf("operator certificate not used: %+v", srv.Leaf.Subject)
	}
}

func FuzzParseNames(f *testing.F) {
	for _, s := range []string{"localhost", "127.0.0.1", "::1", "*.a.example", "a..b", "[::1]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		names, err := ParseNames([]string{s})
		if err != nil {
			return
		}
		for _, ip := range names.IPs {
			if ip == nil || net.ParseIP(ip.String()) == nil {
				t.Fatalf("%q gave IP %v", s, ip)
			}
		}
		for _, d := range names.DNS {
			if validHostName(d) != nil {
				t.Fatalf("%q gave invalid name %q", s, d)
			}
		}
	})
}

func FuzzParseCertificates(f *testing.F) {
	ca, _, _ := LoadOrCreate(f.TempDir(), t0)
	f.Add(ca.PEM)
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		certs, err := ParseCertificates(data)
		if err == nil && len(certs) == 0 {
			t.Fatal("no error and no certificate")
		}
	})
}
