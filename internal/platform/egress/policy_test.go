package egress

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestDefaultPolicyRefusesSpecialAddresses(t *testing.T) {
	var p *Policy // nil is the default policy
	refused := []string{
		"127.0.0.1:80", "127.9.9.9:8080", "[::1]:80", "169.254.169.254:80", "[fe80::1]:80",
		"10.1.2.3:443", "172.16.0.1:443", "172.31.255.255:443", "192.168.1.1:80", "[fc00::1]:80", "[fd12:3456::1]:80",
		"0.0.0.0:80", "0.1.2.3:80", "100.64.0.1:80", "100.127.255.255:80", "224.0.0.1:80", "[ff02::1]:80",
		"255.255.255.255:80", "[::]:80",
		"[::ffff:127.0.0.1]:80", "[::ffff:169.254.169.254]:80", "[::ffff:10.0.0.1]:80", // IPv4-mapped
		"[::127.0.0.1]:80",        // IPv4-compatible
		"[64:ff9b::a9fe:a9fe]:80", // NAT64 of 169.254.169.254
		"[2002:7f00:1::1]:80",     // 6to4 of 127.0.0.1
		"[fe80::1%25eth0]:80",     // zoned link-local (the %25 is unescaped below)
	}
	for _, s := range refused {
		ap, err := netip.ParseAddrPort(strings.ReplaceAll(s, "%25", "%"))
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		err = p.Check(ap.Addr().String(), ap)
		var de *DeniedError
		if !errors.As(err, &de) {
			t.Errorf("%s: allowed by the default policy", s)
			continue
		}
		if !strings.Contains(err.Error(), "--egress-allow") {
			t.Errorf("%s: error does not say how to allow it: %v", s, err)
		}
	}
	for _, s := range []string{"93.184.215.14:443", "8.8.8.8:53", "[2606:4700::1111]:443", "100.128.0.1:80", "172.32.0.1:80", "[64:ff9b::808:808]:80"} {
		ap := netip.MustParseAddrPort(s)
		if err := p.Check("", ap); err != nil {
			t.Errorf("%s: public address refused: %v", s, err)
		}
	}
}

func TestAllowEntriesOpenWhatTheyName(t *testing.T) {
	p, err := Parse([]string{"127.0.0.0/8", "10.1.2.3:8443", "hooks.corp.example", ".svc.internal:443", "fd00::/8"})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		host, addr string
		ok         bool
	}{
		{"127.0.0.1", "127.0.0.1:9000", true},
		{"127.0.0.1", "[::ffff:127.0.0.1]:9000", true},
		{"10.1.2.3", "10.1.2.3:8443", true},
		{"10.1.2.3", "10.1.2.3:80", false}, // the entry names another port
		{"10.1.2.4", "10.1.2.4:8443", false},
		{"hooks.corp.example", "10.9.9.9:80", true},
		{"HOOKS.corp.example.", "10.9.9.9:80", true},
		{"other.corp.example", "10.9.9.9:80", false},
		{"a.svc.internal", "192.168.0.5:443", true},
		{"a.svc.internal", "192.168.0.5:80", false},
		{"svc.internal", "192.168.0.5:443", false}, // .domain is for names below it
		{"x", "[fd00::5]:80", true},
		{"x", "[::1]:80", false},
	}
	for _, c := range cases {
		err := p.Check(c.host, netip.MustParseAddrPort(c.addr))
		if (err == nil) != c.ok {
			t.Errorf("%s at %s: err %v, want allowed %v", c.host, c.addr, err, c.ok)
		}
	}
}

func TestOwnListenersStayRefusedUnlessNamedWithPort(t *testing.T) {
	p, _ := Parse([]string{"127.0.0.0/8"})
	if err := p.DenyListener("127.0.0.1:7070"); err != nil {
		t.Fatal(err)
	}
	if err := p.DenyListener("0.0.0.0:7422"); err != nil {
		t.Fatal(err)
	}
	if err := p.DenyListener("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"127.0.0.1:7070", "127.0.0.1:7422", "127.0.0.2:7422", "[::1]:7422"} {
		err := p.Check("", netip.MustParseAddrPort(s))
		if err == nil || !strings.Contains(err.Error(), "own listeners") {
			t.Errorf("%s: %v, want refused as Gaffer's own listener", s, err)
		}
	}
	if err := p.Check("", netip.MustParseAddrPort("127.0.0.1:7071")); err != nil {
		t.Errorf("another loopback port: %v", err)
	}
	p2, _ := Parse([]string{"127.0.0.1:7070"})
	p2.DenyListener("127.0.0.1:7070")
	if err := p2.Check("", netip.MustParseAddrPort("127.0.0.1:7070")); err != nil {
		t.Errorf("own listener named with its port: %v", err)
	}
}

func TestParseEntryErrorsNameTheEntry(t *testing.T) {
	for _, s := range []string{"", "10.0.0.0/33", "not a host", "-bad.example", "a..b", "host:0", "host:70000", "1.2.3.4:x", "::1::", "fe80::1%eth0/64", "ex*ample.com",
		"10.0.0.0.", "10.1", "0x7f.1", "corp.0X", "example.123:80"} {
		_, err := ParseEntry(s)
		if err == nil {
			t.Errorf("%q: accepted", s)
			continue
		}
		if !strings.Contains(err.Error(), "egress-allow") || !strings.Contains(err.Error(), `"`+s+`"`) {
			t.Errorf("%q: error does not name the setting and entry: %v", s, err)
		}
	}
	for s, want := range map[string]string{"10.0.0.1/8": "10.0.0.0/8", "123.example.": "123.example", "0x7f.example": "0x7f.example", "::1": "::1", "[::1]:80": "[::1]:80", "Hooks.Example.": "hooks.example",
		".corp.example:443": ".corp.example:443", "10.0.0.1": "10.0.0.1"} {
		e, err := ParseEntry(s)
		if err != nil || e.String() != want {
			t.Errorf("%q: %v %v, want %s", s, e, err, want)
		}
	}
}

// FuzzParseEntry checks that parsing never panics and that an accepted
// entry written back parses to the same entry.
func FuzzParseEntry(f *testing.F) {
	for _, s := range []string{"10.0.0.0/8", "::1", "[::1]:80", "hooks.example:8443", ".corp.example", "1.2.3.4:65535", "a:b:c", "/", "[]:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseEntry(s)
		if err != nil {
			return
		}
		again, err := ParseEntry(e.String())
		if err != nil {
			t.Fatalf("%q parsed to %q, which does not parse: %v", s, e.String(), err)
		}
		if again != e {
			t.Fatalf("%q parsed to %+v, written %q, parsed again to %+v", s, e, e.String(), again)
		}
	})
}
