package sshca

import (
	"bytes"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

func testCert(t *testing.T, ca ssh.Signer, key ssh.PublicKey, serial uint64, keyID string) *ssh.Certificate {
	t.Helper()
	now := time.Now()
	tmpl := &Template{CertType: ssh.UserCert, Principals: []string{"alice"}, ValidAfter: now.Add(-time.Minute),
		ValidBefore: now.Add(time.Hour), Extensions: map[string]string{"permit-pty": ""}}
	cert, err := Issue(ca, key, tmpl, serial, keyID)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func TestKRLAgainstSSHKeygen(t *testing.T) {
	sshKeygen(t)
	dir := t.TempDir()
	ca, otherCA := newUserKey(t), newUserKey(t)
	k1, k2, k3, k4 := newUserKey(t), newUserKey(t), newUserKey(t), newUserKey(t)
	bySerial := testCert(t, ca, k1.PublicKey(), 42, "id-serial")
	byKeyID := testCert(t, ca, k2.PublicKey(), 43, "request[r1] for[bob]")
	byKey := testCert(t, ca, k3.PublicKey(), 44, "id-key")
	sameSerialOtherCA := testCert(t, otherCA, k4.PublicKey(), 42, "id-other")
	fine := testCert(t, ca, k4.PublicKey(), 45, "id-fine")

	krl := &KRL{Version: 7, GeneratedAt: time.Now(), Comment: "gaffer test",
		Certs: []KRLCerts{
			{CAKey: ca.PublicKey().Marshal(), Serials: []uint64{42, 9, 42, 0}},
			{KeyIDs: []string{"request[r1] for[bob]"}},
		},
		Keys: [][]byte{k3.PublicKey().Marshal()},
	}
	data := krl.Marshal()
	krlPath := writeFile(t, dir, "krl", data)
	for name, c := range map[string]struct {
		cert    *ssh.Certificate
		revoked bool
	}{
		"by serial":             {bySerial, true},
		"by key ID":             {byKeyID, true},
		"by public key":         {byKey, true},
		"same serial, other CA": {sameSerialOtherCA, false},
		"not revoked":           {fine, false},
	} {
		p := writeFile(t, dir, "cert.pub", ssh.MarshalAuthorizedKey(c.cert))
		if got := keygenQuery(t, krlPath, p); got != c.revoked {
			t.Errorf("%s: ssh-keygen says revoked=%v, want %v", name, got, c.revoked)
		}
		if got := krl.IsRevoked(c.cert); got != c.revoked {
			t.Errorf("%s: KRL.IsRevoked = %v, want %v", name, got, c.revoked)
		}
	}
	plain := writeFile(t, dir, "plain.pub", ssh.MarshalAuthorizedKey(k3.PublicKey()))
	if !keygenQuery(t, krlPath, plain) {
		t.Errorf("plain revoked key: ssh-keygen says not revoked")
	}

	parsed, err := ParseKRL(data)
	if err != nil {
		t.Fatal(err)
	}
	if parsed.Version != 7 || parsed.Comment != "gaffer test" || len(parsed.Certs) != 2 ||
		len(parsed.Certs[0].Serials) != 2 || len(parsed.Keys) != 1 {
		t.Fatalf("parsed: %+v", parsed)
	}
	if again := parsed.Marshal(); !bytes.Equal(again[44:], data[44:]) {
		t.Errorf("re-marshalled KRL differs after the header")
	}
}

func TestEmptyKRLAgainstSSHKeygen(t *testing.T) {
	sshKeygen(t)
	dir := t.TempDir()
	krlPath := writeFile(t, dir, "krl", (&KRL{Version: 1, GeneratedAt: time.Now()}).Marshal())
	cert := testCert(t, newUserKey(t), newUserKey(t).PublicKey(), 1, "x")
	if keygenQuery(t, krlPath, writeFile(t, dir, "c.pub", ssh.MarshalAuthorizedKey(cert))) {
		t.Fatal("empty KRL revokes a certificate")
	}
}

func TestParseKRLRefusesBadInput(t *testing.T) {
	good := (&KRL{Version: 1, Certs: []KRLCerts{{KeyIDs: []string{"a"}}}}).Marshal()
	for name, b := range map[string][]byte{
		"empty":      nil,
		"bad magic":  []byte("SSHKRX\n\x00"),
		"truncated":  good[:len(good)-2],
		"signature":  append(append([]byte{}, good...), krlSectionSignature, 0, 0, 0, 0),
		"unknown":    append(append([]byte{}, good...), 77, 0, 0, 0, 0),
		"bad length": append(append([]byte{}, good...), krlSectionExplicit, 0xff, 0, 0, 0),
	} {
		if _, err := ParseKRL(b); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}
