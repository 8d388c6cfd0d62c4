package sshca

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"path"
	"slices"
	"strings"
	"time"
	"unicode"

	"golang.org/x/crypto/ssh"
)

// SignRequest is the body of POST /api/v1/sshca/sign.
type SignRequest struct {
	// PublicKey is the key to certify, in authorized_keys form.
	PublicKey string `json:"public_key"`
	// CertType is "user" (the default) or "host".
	CertType string `json:"cert_type,omitempty"`
	// Principals are the user names (or host names) the certificate is
	// for; empty means the policy's literal principals (for users, the
	// caller's own identity).
	Principals []string `json:"principals,omitempty"`
	// Validity is a Go duration ("5m"); empty means the policy's default.
	Validity string `json:"validity,omitempty"`
	// SourceAddresses restrict where the certificate may be used from
	// (CIDRs or addresses; user certificates only).
	SourceAddresses []string `json:"source_addresses,omitempty"`
	// ForceCommand is forced on every session (user certificates only).
	ForceCommand string `json:"force_command,omitempty"`
	// Extensions are the extensions wanted; omitted means all the policy
	// grants.
	Extensions []string `json:"extensions,omitempty"`
	// IDToken is an OIDC ID token proving the caller's identity, when the
	// server verifies them.
	IDToken string `json:"id_token,omitempty"`
	// CA names the CA to sign with; empty means the policy's.
	CA string `json:"ca,omitempty"`
}

// Request is a parsed, syntactically valid SignRequest.
type Request struct {
	Key             ssh.PublicKey
	KeyInfo         KeyInfo
	CertType        string
	Principals      []string
	Validity        time.Duration // 0: the policy's default
	SourceAddresses []netip.Prefix
	ForceCommand    string
	Extensions      []string // nil: the policy's
	CA              string
}

// Refusal is a request the CA turned down. Status is 400 for a malformed
// request and 403 for one the policy does not allow; Reason says why.
type Refusal struct {
	Status int
	Code   string
	Reason string
}

func (r *Refusal) Error() string { return r.Reason }

func invalid(format string, args ...any) *Refusal {
	return &Refusal{Status: http.StatusBadRequest, Code: "invalid_request", Reason: fmt.Sprintf(format, args...)}
}

func refuse(format string, args ...any) *Refusal {
	return &Refusal{Status: http.StatusForbidden, Code: "policy_refused", Reason: fmt.Sprintf(format, args...)}
}

// Limits on request fields.
const (
	maxPrincipals   = 256
	maxPrincipalLen = 255
	maxCommandLen   = 4096
	maxSources      = 64
)

// ParseSignRequest checks the syntax of a request and parses it. Its
// errors are *Refusal with status 400, naming the field.
func ParseSignRequest(in SignRequest) (*Request, error) {
	key, info, err := ParsePublicKey(in.PublicKey)
	if err != nil {
		return nil, invalid("%v", err)
	}
	r := &Request{Key: key, KeyInfo: info, CertType: in.CertType, CA: in.CA}
	if r.CertType == "" {
		r.CertType = UserCert
	}
	if r.CertType != UserCert && r.CertType != HostCert {
		return nil, invalid("cert_type: %q is not user or host", in.CertType)
	}
	if len(in.Principals) > maxPrincipals {
		return nil, invalid("principals: more than %d", maxPrincipals)
	}
	for i, p := range in.Principals {
		if err := checkPrincipal(p); err != nil {
			return nil, invalid("principals[%d]: %v", i, err)
		}
		if !slices.Contains(r.Principals, p) {
			r.Principals = append(r.Principals, p)
		}
	}
	if in.Validity != "" {
		d, err := time.ParseDuration(in.Validity)
		if err != nil || d <= 0 {
			return nil, invalid("validity: want a positive duration such as \"5m\", got %q", in.Validity)
		}
		r.Validity = d
	}
	if len(in.SourceAddresses) > maxSources {
		return nil, invalid("source_addresses: more than %d", maxSources)
	}
	for i, s := range in.SourceAddresses {
		p, err := parsePrefix(s)
		if err != nil {
			return nil, invalid("source_addresses[%d]: %v", i, err)
		}
		r.SourceAddresses = append(r.SourceAddresses, p)
	}
	if len(in.ForceCommand) > maxCommandLen || strings.ContainsAny(in.ForceCommand, "\x00\r\n") {
		return nil, invalid("force_command: must be one line of at most %d bytes", maxCommandLen)
	}
	r.ForceCommand = in.ForceCommand
	if in.Extensions != nil {
		r.Extensions = []string{}
		for i, e := range in.Extensions {
			if !slices.Contains(knownExtensions, e) {
				return nil, invalid("extensions[%d]: %q is not one of %s", i, e, strings.Join(knownExtensions, ", "))
			}
			r.Extensions = append(r.Extensions, e)
		}
	}
	if r.CertType == HostCert && (len(r.SourceAddresses) > 0 || r.ForceCommand != "" || len(r.Extensions) > 0) {
		return nil, invalid("source_addresses, force_command, extensions: host certificates carry none of these")
	}
	if in.CA != "" {
		if err := ValidName(in.CA); err != nil {
			return nil, invalid("ca: %v", err)
		}
	}
	return r, nil
}

// checkPrincipal refuses empty, over-long and unprintable principals.
func checkPrincipal(p string) error {
	if p == "" {
		return errors.New("empty")
	}
	if len(p) > maxPrincipalLen {
		return fmt.Errorf("longer than %d bytes", maxPrincipalLen)
	}
	for _, c := range p {
		if c == ',' || unicode.IsSpace(c) || !unicode.IsPrint(c) {
			return fmt.Errorf("%q contains a space, comma or unprintable character", p)
		}
	}
	return nil
}

// Caller is who asked for a certificate, as authenticated.
type Caller struct {
	Identity  string
	Groups    []string
	ClientIP  netip.Addr
	RequestID string
}

// Template is what a policy decided to sign.
type Template struct {
	Policy          string
	CA              string
	CertType        uint32
	Principals      []string
	ValidAfter      time.Time
	ValidBefore     time.Time
	CriticalOptions map[string]string
	Extensions      map[string]string
}

func expandIdentity(pattern, identity string) string {
	return strings.ReplaceAll(pattern, "{{identity}}", identity)
}

func isGlob(s string) bool { return strings.ContainsAny(s, `*?[\`) }

// decide checks a request against the policy and returns what to sign, or
// a *Refusal saying why not.
func (c *compiledPolicy) decide(caller Caller, req *Request, now time.Time) (*Template, error) {
	min, ok := c.keyRules[req.KeyInfo.Family]
	if !ok {
		var allowed []string
		for _, r := range c.KeyTypes {
			allowed = append(allowed, r.Type)
		}
		return nil, refuse("public_key: %s keys are not allowed by policy %q (allowed: %s)",
			req.KeyInfo.Family, c.Name, strings.Join(allowed, ", "))
	}
	if req.KeyInfo.Bits < min {
		return nil, refuse("public_key: %d-bit %s key is smaller than the %d bits policy %q requires",
			req.KeyInfo.Bits, req.KeyInfo.Family, min, c.Name)
	}
	if req.CA != "" && req.CA != c.CA {
		return nil, refuse("ca: policy %q signs with CA %q, not %q", c.Name, c.CA, req.CA)
	}
	patterns := make([]string, len(c.Principals))
	for i, p := range c.Principals {
		patterns[i] = expandIdentity(p, caller.Identity)
	}
	principals := req.Principals
	if len(principals) == 0 {
		for _, p := range patterns {
			if !isGlob(p) && checkPrincipal(p) == nil {
				principals = append(principals, p)
			}
		}
		if len(principals) == 0 {
			return nil, invalid("principals: required (policy %q names no default principal)", c.Name)
		}
	}
	for _, p := range principals {
		if !matchAny(patterns, p) {
			return nil, refuse("principals: %q is not allowed for %s by policy %q", p, caller.Identity, c.Name)
		}
		if c.certType == ssh.UserCert {
			if slices.Contains(c.UsernameBlocklist, p) {
				return nil, refuse("principals: username %q is on the blocklist of policy %q", p, c.Name)
			}
			if c.usernameRegex != nil && !c.usernameRegex.MatchString(p) {
				return nil, refuse("principals: username %q does not match %s (policy %q)", p, c.UsernamePattern, c.Name)
			}
		}
	}
	validity := req.Validity
	if validity == 0 {
		validity = c.defValidity
	}
	if validity > c.maxValidity {
		return nil, refuse("validity: %s is longer than the %s policy %q allows", validity, c.maxValidity, c.Name)
	}
	t := &Template{Policy: c.Name, CA: c.CA, CertType: c.certType, Principals: principals,
		ValidAfter: now.Add(-c.backdate).Truncate(time.Second), ValidBefore: now.Add(validity).Truncate(time.Second)}
	if c.certType == ssh.HostCert {
		return t, nil
	}
	sources := req.SourceAddresses
	if len(sources) == 0 {
		switch {
		case c.SourceAddressFromClient && caller.ClientIP.IsValid():
			a := caller.ClientIP.Unmap()
			sources = []netip.Prefix{netip.PrefixFrom(a, a.BitLen())}
		case len(c.sources) > 0:
			sources = c.sources
		}
	}
	if len(c.sources) > 0 {
		for _, s := range sources {
			if !within(s, c.sources) {
				return nil, refuse("source_addresses: %s is outside the networks policy %q allows (%s)",
					s, c.Name, strings.Join(c.SourceAddresses, ", "))
			}
		}
	}
	t.CriticalOptions = map[string]string{}
	if len(sources) > 0 {
		parts := make([]string, len(sources))
		for i, s := range sources {
			parts[i] = s.String()
		}
		t.CriticalOptions["source-address"] = strings.Join(parts, ",")
	}
	cmd := req.ForceCommand
	if c.ForceCommand != "" {
		if cmd != "" && cmd != c.ForceCommand {
			return nil, refuse("force_command: policy %q forces %q", c.Name, c.ForceCommand)
		}
		cmd = c.ForceCommand
	}
	if cmd != "" {
		t.CriticalOptions["force-command"] = cmd
	}
	exts := req.Extensions
	if exts == nil {
		exts = c.Extensions
	}
	t.Extensions = make(map[string]string, len(exts))
	for _, e := range exts {
		if !slices.Contains(c.Extensions, e) {
			return nil, refuse("extensions: %q is not allowed by policy %q", e, c.Name)
		}
		t.Extensions[e] = ""
	}
	return t, nil
}

func matchAny(patterns []string, s string) bool {
	for _, p := range patterns {
		if p == s {
			return true
		}
		if ok, _ := matchGlob(p, s); ok {
			return true
		}
	}
	return false
}

// matchGlob matches shell-style patterns (path.Match syntax).
func matchGlob(pattern, s string) (bool, error) { return path.Match(pattern, s) }

// checkIdentity refuses identities that cannot safely stand in a
// principal pattern or a key ID.
func checkIdentity(id string) error {
	if id == "" {
		return refuse("identity: this token is not bound to an identity; create it with `gaffer token create --identity NAME`, or send an OIDC id_token")
	}
	if err := checkPrincipal(id); err != nil || isGlob(id) || strings.ContainsAny(id, "[]") {
		return refuse("identity: %q cannot be used for SSH certificates (spaces, commas, brackets and glob characters are not allowed)", id)
	}
	return nil
}
