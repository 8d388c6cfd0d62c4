// Package egress is Gaffer's one outbound HTTP client: every request the
// server makes on a user's behalf (webhooks, runbook http steps, certificate
// scans and destinations, ACME validations) dials through a Policy.
//
// By default a Policy refuses loopback, link-local, private and other
// special-purpose addresses, and Gaffer's own listeners; an operator opens
// what Gaffer must reach with `--egress-allow CIDR|HOST` entries. The check
// runs on the resolved IP address as the socket connects (net.Dialer
// Control), so a name that resolves to a public address when it is checked
// and to a private one when it is used (DNS rebinding) is still refused,
// and every redirect is checked again because it dials again.
package egress

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
)

// Policy decides which addresses outbound connections may reach. The zero
// value and a nil *Policy are the default policy (nothing allowed beyond
// public addresses). A Policy is safe for concurrent use.
type Policy struct {
	allow []Entry

	mu   sync.RWMutex
	self []netip.AddrPort
}

// Entry is one --egress-allow entry: a CIDR range or single address, or a
// host name (".example.com" for every name below example.com), optionally
// limited to one port.
type Entry struct {
	// Prefix is set for address and CIDR entries.
	Prefix netip.Prefix
	// Host is set (lower case, without a trailing dot) for host entries.
	Host string
	// Port limits the entry to one port; 0 means every port.
	Port uint16
}

// String returns the entry as it is written on the command line.
func (e Entry) String() string {
	var s string
	switch {
	case e.Host != "":
		s = e.Host
	case e.Prefix.IsSingleIP():
		s = e.Prefix.Addr().String()
	default:
		s = e.Prefix.String()
	}
	if e.Port == 0 {
		return s
	}
	if e.Prefix.IsValid() && e.Prefix.Addr().Is6() {
		s = "[" + s + "]"
	}
	return s + ":" + strconv.Itoa(int(e.Port))
}

// matchesHost reports whether a host entry covers the name host.
func (e Entry) matchesHost(host string, port uint16) bool {
	if e.Host == "" || (e.Port != 0 && e.Port != port) {
		return false
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if strings.HasPrefix(e.Host, ".") {
		return strings.HasSuffix(host, e.Host) && len(host) > len(e.Host)
	}
	return host == e.Host
}

// matchesAddr reports whether an address entry covers ap.
func (e Entry) matchesAddr(ap netip.AddrPort) bool {
	return e.Prefix.IsValid() && (e.Port == 0 || e.Port == ap.Port()) && e.Prefix.Contains(ap.Addr())
}

// Parse builds a policy from --egress-allow entries; see ParseEntry.
func Parse(entries []string) (*Policy, error) {
	p := &Policy{}
	for _, s := range entries {
		e, err := ParseEntry(s)
		if err != nil {
			return nil, err
		}
		p.allow = append(p.allow, e)
	}
	return p, nil
}

// ParseEntry parses one --egress-allow entry: a CIDR range ("10.0.0.0/8",
// "fd00::/8"), an address ("10.1.2.3", "::1"), an address with a port
// ("10.1.2.3:8443", "[::1]:8443"), a host name ("hooks.corp.example"),
// every name below a domain (".corp.example"), or a name with a port
// ("hooks.corp.example:8443"). Errors name the entry and the problem.
func ParseEntry(s string) (Entry, error) {
	in := strings.TrimSpace(s)
	bad := func(why string) (Entry, error) {
		return Entry{}, fmt.Errorf("egress-allow %q: %s; write a CIDR range, an address, or a host name, optionally with :port", s, why)
	}
	if in == "" {
		return bad("empty entry")
	}
	if strings.Contains(in, "/") {
		pf, err := netip.ParsePrefix(in)
		if err != nil {
			return bad("not a CIDR range")
		}
		if pf.Addr().Zone() != "" {
			return bad("a range cannot have an IPv6 zone")
		}
		return Entry{Prefix: pf.Masked()}, nil
	}
	if a, err := netip.ParseAddr(in); err == nil {
		return Entry{Prefix: netip.PrefixFrom(a.WithZone(""), a.BitLen())}, nil
	}
	host, port := in, uint16(0)
	if h, ps, err := net.SplitHostPort(in); err == nil {
		n, err := strconv.ParseUint(ps, 10, 16)
		if err != nil || n == 0 {
			return bad("port must be 1 to 65535")
		}
		host, port = h, uint16(n)
		if a, err := netip.ParseAddr(host); err == nil {
			return Entry{Prefix: netip.PrefixFrom(a.WithZone(""), a.BitLen()), Port: port}, nil
		}
	} else if strings.Count(in, ":") > 0 {
		return bad("not an address, and a host name has no ':' except before a port")
	}
	name := strings.TrimSuffix(strings.ToLower(host), ".")
	if err := checkHostName(strings.TrimPrefix(name, ".")); err != nil {
		return bad(err.Error())
	}
	return Entry{Host: name, Port: port}, nil
}

// checkHostName accepts DNS names of letters, digits, '-' and '_' whose
// last label is not a number. A name ending in a number ("10.0.0.0." with
// its trailing dot, "10.1", "0x7f.1") is what URL parsers and resolvers
// read as an IPv4 address, so as a name entry it would either never match
// or match something other than the operator meant: it is refused and the
// operator writes the address itself.
func checkHostName(name string) error {
	if name == "" {
		return fmt.Errorf("empty host name")
	}
	if len(name) > 253 {
		return fmt.Errorf("host name longer than 253 characters")
	}
	labels := strings.Split(name, ".")
	if last := labels[len(labels)-1]; isNumericLabel(last) {
		return fmt.Errorf("host name %q ends in the number %q, which reads as an IPv4 address; write the address as a.b.c.d, without a trailing dot", name, last)
	}
	for _, label := range labels {
		if label == "" || len(label) > 63 {
			return fmt.Errorf("host name label %q must have 1 to 63 characters", label)
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Errorf("host name label %q starts or ends with '-'", label)
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return fmt.Errorf("host name %q has the character %q", name, c)
			}
		}
	}
	return nil
}

// isNumericLabel reports whether a host name label is a number as the URL
// standard's IPv4 parser reads one: decimal digits, or 0x followed by hex
// digits.
func isNumericLabel(label string) bool {
	digits := "0123456789"
	if len(label) >= 2 && label[0] == '0' && (label[1] == 'x' || label[1] == 'X') {
		label, digits = label[2:], "0123456789abcdefABCDEF"
		if label == "" {
			return true
		}
	}
	return label != "" && strings.Trim(label, digits) == ""
}

// Allowed returns the policy's entries as they are written.
func (p *Policy) Allowed() []string {
	if p == nil {
		return nil
	}
	out := make([]string, len(p.allow))
	for i, e := range p.allow {
		out[i] = e.String()
	}
	return out
}

// DenyListener records one of Gaffer's own listening addresses (host:port,
// as net.Listener.Addr().String() gives it), which outbound requests must
// not reach even where its range is allowed, unless an entry names its
// port. An unspecified host (0.0.0.0, ::) stands for every address of this
// machine. Addresses without a port (or port 0) are ignored.
func (p *Policy) DenyListener(addr string) error {
	if p == nil {
		return nil
	}
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		host, ps, err := net.SplitHostPort(addr)
		if err != nil {
			return fmt.Errorf("egress: own listener %q: %w", addr, err)
		}
		n, err := strconv.ParseUint(ps, 10, 16)
		if err != nil {
			return fmt.Errorf("egress: own listener %q: port: %w", addr, err)
		}
		if host != "" && host != "localhost" {
			return fmt.Errorf("egress: own listener %q: want an address, not a host name", addr)
		}
		ap = netip.AddrPortFrom(netip.IPv6Unspecified(), uint16(n))
	}
	if ap.Port() == 0 {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.self = append(p.self, netip.AddrPortFrom(ap.Addr().Unmap().WithZone(""), ap.Port()))
	return nil
}

// isSelf reports whether ap is one of Gaffer's own listeners.
func (p *Policy) isSelf(ap netip.AddrPort) bool {
	if p == nil {
		return false
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	for _, s := range p.self {
		if s.Port() != ap.Port() {
			continue
		}
		if s.Addr() == ap.Addr() || (s.Addr().IsUnspecified() && isLocal(ap.Addr())) {
			return true
		}
	}
	return false
}

// isLocal reports whether a is an address of this machine.
func isLocal(a netip.Addr) bool {
	if a.IsLoopback() || a.IsUnspecified() {
		return true
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return true // cannot tell: treat as local, the safe answer
	}
	for _, ia := range addrs {
		if n, ok := ia.(*net.IPNet); ok {
			if x, ok := netip.AddrFromSlice(n.IP); ok && x.Unmap() == a {
				return true
			}
		}
	}
	return false
}

// DeniedError is a connection the policy refused.
type DeniedError struct {
	// Host is the name the request was for (may be the address itself).
	Host string
	// Addr is the address it resolved to.
	Addr netip.AddrPort
	// Reason says what kind of address it is, e.g. "loopback".
	Reason string
}

func (e *DeniedError) Error() string {
	target := e.Addr.String()
	if e.Host != "" && e.Host != e.Addr.Addr().String() {
		target = e.Host + " (" + target + ")"
	}
	return fmt.Sprintf("egress policy: %s is %s; outbound requests to it are refused (an operator can allow it with --egress-allow)",
		target, e.Reason)
}

// Check decides whether a connection for host (the name in the URL, or
// the address itself) to ap may be made; it returns a *DeniedError when not.
func (p *Policy) Check(host string, ap netip.AddrPort) error {
	ap = netip.AddrPortFrom(ap.Addr().Unmap().WithZone(""), ap.Port())
	var entries []Entry
	if p != nil {
		entries = p.allow
	}
	explicitPort := false
	allowed := false
	for _, e := range entries {
		if e.matchesHost(host, ap.Port()) || e.matchesAddr(ap) {
			allowed = true
			explicitPort = explicitPort || e.Port != 0
		}
	}
	if p.isSelf(ap) && !explicitPort {
		return &DeniedError{Host: host, Addr: ap, Reason: "one of Gaffer's own listeners"}
	}
	if allowed {
		return nil
	}
	if why := Special(ap.Addr()); why != "" {
		return &DeniedError{Host: host, Addr: ap, Reason: why}
	}
	return nil
}
