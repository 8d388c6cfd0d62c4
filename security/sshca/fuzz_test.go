package sshca

import (
	"encoding/json"
	"errors"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

const fuzzKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl user@host"

// FuzzParsePublicKey: any text either parses to a supported key or is
// refused with a 400 reason; it never panics.
func FuzzParsePublicKey(f *testing.F) {
	for _, s := range []string{fuzzKey, "", "ssh-rsa AAAA", "ssh-ed25519 " + fuzzKey[12:40], "ecdsa-sha2-nistp256 AAAAE2VjZHNh",
		"ssh-ed25519-cert-v01@openssh.com AAAA", fuzzKey + "\n" + fuzzKey, `command="x" ` + fuzzKey} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, info, err := ParsePublicKey(s)
		if err == nil && (k == nil || info.Family == "" || info.Bits == 0) {
			t.Fatalf("accepted %q without describing it", s)
		}
	})
}

// FuzzSignRequest: any JSON body either parses and is decided by the
// default policy, or is refused; it never panics, and what is signed
// stays within the policy.
func FuzzSignRequest(f *testing.F) {
	f.Add([]byte(`{"public_key":"` + fuzzKey + `"}`))
	f.Add([]byte(`{"public_key":"` + fuzzKey + `","principals":["alice","a*"],"validity":"5m","source_addresses":["10.0.0.0/8","::1"]}`))
	f.Add([]byte(`{"public_key":"` + fuzzKey + `","cert_type":"host","principals":["h.example.com"],"extensions":["permit-pty"]}`))
	f.Add([]byte(`{"public_key":"` + fuzzKey + `","force_command":"/bin/true","validity":"-1s","ca":"User"}`))
	p := Policy{Name: "default", Identities: []string{"*"}, SourceAddresses: []string{"10.0.0.0/8"}}
	p.Normalize()
	policy, err := p.compile()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var in SignRequest
		if json.Unmarshal(body, &in) != nil {
			return
		}
		req, err := ParseSignRequest(in)
		if err != nil {
			if _, ok := errors.AsType[*Refusal](err); !ok {
				t.Fatalf("error %T is not a Refusal", err)
			}
			return
		}
		tmpl, err := policy.decide(Caller{Identity: "alice", ClientIP: netip.MustParseAddr("10.1.2.3")}, req, time.Unix(1e9, 0))
		if err != nil {
			return
		}
		for _, pr := range tmpl.Principals {
			if pr != "alice" {
				t.Fatalf("signed principal %q for alice", pr)
			}
		}
		if tmpl.ValidBefore.Sub(time.Unix(1e9, 0)) > 5*time.Minute {
			t.Fatalf("validity beyond the policy: %v", tmpl.ValidBefore)
		}
		if tmpl.CertType == ssh.UserCert && tmpl.CriticalOptions["source-address"] == "" {
			t.Fatal("no source-address although the policy restricts sources")
		}
	})
}

// FuzzPrincipals: principal and identity checks never accept what could
// break a key ID or widen a pattern.
func FuzzPrincipals(f *testing.F) {
	for _, s := range []string{"alice", "", "a b", "a,b", "*", "al[ce", "root", "x\x00y", "ünïcode"} {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, principal, identity string) {
		if checkPrincipal(principal) == nil {
			for _, c := range principal {
				if c == ',' || c == ' ' || c == '\n' || c == 0 {
					t.Fatalf("accepted principal %q", principal)
				}
			}
		}
		if checkIdentity(identity) == nil && (isGlob(identity) || matchAny([]string{expandIdentity("{{identity}}", identity)}, identity+"x")) {
			t.Fatalf("identity %q widens the {{identity}} pattern", identity)
		}
	})
}

// FuzzParseKRL: any bytes either parse (and re-encode to something that
// parses again) or are refused; never a panic.
func FuzzParseKRL(f *testing.F) {
	k := &KRL{Version: 3, Certs: []KRLCerts{{KeyIDs: []string{"a", "b"}}, {Serials: []uint64{1, 5}}}}
	f.Add(k.Marshal())
	f.Add([]byte(krlMagic))
	f.Fuzz(func(t *testing.T, b []byte) {
		parsed, err := ParseKRL(b)
		if err != nil {
			return
		}
		if _, err := ParseKRL(parsed.Marshal()); err != nil {
			t.Fatalf("re-encoded KRL does not parse: %v", err)
		}
	})
}
