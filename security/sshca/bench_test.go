package sshca

import (
	"net/netip"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// BenchmarkIssueEd25519 is the library's signing path: build and sign one
// ed25519 user certificate with an ed25519 CA (goal: >= 10,000/s per
// core).
func BenchmarkIssueEd25519(b *testing.B) {
	ca, key := newUserKey(b), newUserKey(b).PublicKey()
	now := time.Now()
	tmpl := &Template{CertType: ssh.UserCert, Principals: []string{"alice"}, ValidAfter: now, ValidBefore: now.Add(5 * time.Minute),
		Extensions: map[string]string{"permit-pty": ""}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Issue(ca, key, tmpl, 42, "request[x] for[alice]"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecideAndIssue adds what a request costs besides the database:
// parsing it, the policy decision, the key ID and the serial.
func BenchmarkDecideAndIssue(b *testing.B) {
	ca := newUserKey(b)
	in := SignRequest{PublicKey: pubLine(newUserKey(b).PublicKey()), Principals: []string{"alice"}, Validity: "5m"}
	p := Policy{Name: "default", Identities: []string{"*"}}
	p.Normalize()
	policy, err := p.compile()
	if err != nil {
		b.Fatal(err)
	}
	caller := Caller{Identity: "alice", ClientIP: netip.MustParseAddr("127.0.0.1"), RequestID: "0123456789abcdef"}
	b.ReportAllocs()
	for b.Loop() {
		req, err := ParseSignRequest(in)
		if err != nil {
			b.Fatal(err)
		}
		tmpl, err := policy.decide(caller, req, time.Now())
		if err != nil {
			b.Fatal(err)
		}
		serial, _ := NewSerial()
		fp := ssh.FingerprintSHA256(req.Key)
		keyID := KeyID(caller.RequestID, caller.Identity, "127.0.0.1", "", fp, "user/ck_1", tmpl.ValidBefore)
		if _, err := Issue(ca, req.Key, tmpl, serial, keyID); err != nil {
			b.Fatal(err)
		}
	}
}
