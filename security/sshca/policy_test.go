package sshca

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

func compiled(t *testing.T, ps ...Policy) []*compiledPolicy {
	t.Helper()
	var out []*compiledPolicy
	for _, p := range ps {
		p.Normalize()
		c, err := p.compile()
		if err != nil {
			t.Fatalf("policy %s: %v", p.Name, err)
		}
		out = append(out, c)
	}
	return out
}

func TestSelectPolicyBySpecificity(t *testing.T) {
	ps := compiled(t,
		Policy{Name: "everyone", Identities: []string{"*"}},
		Policy{Name: "ops-glob", Identities: []string{"ops-*"}},
		Policy{Name: "sre", Groups: []string{"sre"}},
		Policy{Name: "alice", Identities: []string{"alice"}},
		Policy{Name: "hosts", CertType: HostCert, Identities: []string{"*"}, Principals: []string{"*"}},
	)
	for _, c := range []struct {
		identity string
		groups   []string
		certType uint32
		want     string
	}{
		{"alice", []string{"sre"}, ssh.UserCert, "alice"}, // the exact identity beats a group
		{"bob", []string{"sre"}, ssh.UserCert, "sre"},     // a group beats a glob
		{"ops-1", nil, ssh.UserCert, "everyone"},          // globs tie: first by name
		{"bob", nil, ssh.UserCert, "everyone"},
		{"bob", nil, ssh.HostCert, "hosts"},
	} {
		if got := selectPolicy(ps, c.certType, c.identity, c.groups); got == nil || got.Name != c.want {
			t.Errorf("%s %v type %d: got %v, want %s", c.identity, c.groups, c.certType, got, c.want)
		}
	}
	if got := selectPolicy(compiled(t, Policy{Name: "x", Identities: []string{"alice"}}), ssh.UserCert, "bob", nil); got != nil {
		t.Errorf("bob matched %s", got.Name)
	}
}

func TestDecideDefaults(t *testing.T) {
	p := compiled(t, Policy{Name: "p", Identities: []string{"*"}, SourceAddressFromClient: true,
		SourceAddresses: []string{"10.0.0.0/8"}})[0]
	key := newUserKey(t).PublicKey()
	req := &Request{Key: key, KeyInfo: KeyInfo{Family: "ed25519", Bits: 256}, CertType: UserCert}
	now := time.Unix(1_800_000_000, 0)
	tmpl, err := p.decide(Caller{Identity: "alice", ClientIP: netip.MustParseAddr("10.1.2.3")}, req, now)
	if err != nil {
		t.Fatal(err)
	}
	if tmpl.CriticalOptions["source-address"] != "10.1.2.3/32" || len(tmpl.Principals) != 1 || tmpl.Principals[0] != "alice" ||
		!tmpl.ValidBefore.Equal(now.Add(5*time.Minute)) || !tmpl.ValidAfter.Equal(now.Add(-2*time.Minute)) ||
		len(tmpl.Extensions) != len(DefaultExtensions) {
		t.Fatalf("template: %+v", tmpl)
	}
	_, err = p.decide(Caller{Identity: "alice", ClientIP: netip.MustParseAddr("192.168.0.9")}, req, now)
	if err == nil || !strings.Contains(err.Error(), "outside") {
		t.Fatalf("client outside the allowed networks: %v", err)
	}
}

func TestPolicyValidation(t *testing.T) {
	for _, c := range []struct {
		p    Policy
		want string
	}{
		{Policy{Name: "Bad Name", Identities: []string{"*"}}, "name"},
		{Policy{Name: "p"}, "identities"},
		{Policy{Name: "p", Identities: []string{"*"}, MaxValidity: "forever"}, "max_validity"},
		{Policy{Name: "p", Identities: []string{"*"}, DefaultValidity: "1h", MaxValidity: "5m"}, "default_validity"},
		{Policy{Name: "p", Identities: []string{"*"}, SourceAddresses: []string{"10.0.0.0/33"}}, "source_addresses[0]"},
		{Policy{Name: "p", Identities: []string{"*"}, Extensions: []string{"permit-root"}}, "extensions[0]"},
		{Policy{Name: "p", Identities: []string{"*"}, KeyTypes: []KeyRule{{Type: "rsa", MinBits: 1024}}}, "key_types[0].min_bits"},
		{Policy{Name: "p", Identities: []string{"*"}, KeyTypes: []KeyRule{{Type: "dsa"}}}, "key_types[0].type"},
		{Policy{Name: "p", Identities: []string{"*"}, UsernamePattern: "("}, "username_pattern"},
		{Policy{Name: "p", Identities: []string{"["}}, "glob"},
	} {
		err := validatePolicy(&c.p)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want an error naming %s", c.p, err, c.want)
		}
	}
}

// validatePolicy normalizes p and reports the first problem with it, as
// storing a policy does.
func validatePolicy(p *Policy) error {
	p.Normalize()
	_, err := p.compile()
	return err
}
