package certs

import (
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"
)

// Lint profiles an authority can check its certificates against.
const (
	// LintRFC5280 runs zlint's RFC and community lints: for private PKI,
	// whose names need not be in public DNS.
	LintRFC5280 = "rfc5280"
	// LintWebPKI adds the CA/Browser Forum baseline requirements and the
	// root programs' policies: for certificates that must look public.
	LintWebPKI = "webpki"
)

// Defaults of a policy's unset fields.
const (
	DefaultValidity    = 90 * 24 * time.Hour
	DefaultMaxValidity = 398 * 24 * time.Hour
)

// Policy decides what an authority may sign.
type Policy struct {
	// AllowedDomains lists the DNS names the authority may certify. An
	// entry "example.com" allows exactly that name; ".example.com" allows
	// any name below it (but not example.com itself). Empty allows any
	// name that is not a public suffix.
	AllowedDomains []string `json:"allowed_domains,omitempty"`
	// AllowWildcards permits a leftmost "*" label over an allowed domain
	// (never over a public suffix, never two wildcards, never "*" inside a
	// label).
	AllowWildcards bool `json:"allow_wildcards,omitempty"`
	// AllowIPs permits IP address SANs; AllowEmails e-mail SANs; AllowURIs
	// URI SANs (SPIFFE IDs and the like).
	AllowIPs    bool `json:"allow_ips,omitempty"`
	AllowEmails bool `json:"allow_emails,omitempty"`
	AllowURIs   bool `json:"allow_uris,omitempty"`
	// MaxValidity bounds a certificate's lifetime (default 398 days);
	// DefaultValidity is used when a request names none (default 90 days).
	MaxValidity     Duration `json:"max_validity,omitempty"`
	DefaultValidity Duration `json:"default_validity,omitempty"`
	// KeyTypes restricts the subject key types; empty allows all of
	// KeyTypes.
	KeyTypes []string `json:"key_types,omitempty"`
	// LintProfile is LintRFC5280 (default) or LintWebPKI.
	LintProfile string `json:"lint_profile,omitempty"`
	// IgnoreLints names zlint lints not to enforce for this authority.
	IgnoreLints []string `json:"ignore_lints,omitempty"`
}

// Validate checks a policy's own settings.
func (p *Policy) Validate() error {
	for _, d := range p.AllowedDomains {
		base := strings.TrimPrefix(d, ".")
		if base == "" || strings.ContainsAny(base, "* ") {
			return fmt.Errorf("allowed domain %q: write example.com or .example.com", d)
		}
	}
	for _, k := range p.KeyTypes {
		if !slices.Contains(KeyTypes, k) {
			return fmt.Errorf("key type %q: want one of %v", k, KeyTypes)
		}
	}
	switch p.LintProfile {
	case "", LintRFC5280, LintWebPKI:
	default:
		return fmt.Errorf("lint profile %q: want %q or %q", p.LintProfile, LintRFC5280, LintWebPKI)
	}
	if p.MaxValidity < 0 || p.DefaultValidity < 0 {
		return fmt.Errorf("validity must not be negative")
	}
	return nil
}

func (p *Policy) maxValidity() time.Duration {
	if p.MaxValidity > 0 {
		return time.Duration(p.MaxValidity)
	}
	return DefaultMaxValidity
}

func (p *Policy) defaultValidity() time.Duration {
	d := DefaultValidity
	if p.DefaultValidity > 0 {
		d = time.Duration(p.DefaultValidity)
	}
	return min(d, p.maxValidity())
}

// Names are a certificate request's subject alternative names, sorted by
// kind.
type Names struct {
	DNS    []string
	IPs    []net.IP
	Emails []string
	URIs   []*url.URL
}

// All returns every name as text.
func (n Names) All() []string {
	out := append([]string(nil), n.DNS...)
	for _, ip := range n.IPs {
		out = append(out, ip.String())
	}
	out = append(out, n.Emails...)
	for _, u := range n.URIs {
		out = append(out, u.String())
	}
	return out
}

// PolicyError is a request the policy refuses; its message says why.
type PolicyError struct{ Reason string }

// Error returns the reason.
func (e *PolicyError) Error() string { return e.Reason }

func refuse(format string, args ...any) error {
	return &PolicyError{Reason: fmt.Sprintf(format, args...)}
}

// ParseNames sorts SANs into kinds: IP addresses, e-mail addresses (with
// "@"), URIs (with "://" or "spiffe:"), else DNS names (lower-cased,
// IDNs to A-labels).
func ParseNames(sans []string) (Names, error) {
	var n Names
	seen := map[string]bool{}
	for _, s := range sans {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		switch {
		case net.ParseIP(s) != nil:
			n.IPs = append(n.IPs, net.ParseIP(s))
		case strings.Contains(s, "://") || strings.HasPrefix(s, "spiffe:"):
			u, err := url.Parse(s)
			if err != nil || u.Scheme == "" {
				return n, refuse("SAN %q: not a valid URI", s)
			}
			n.URIs = append(n.URIs, u)
		case strings.Contains(s, "@"):
			if a, err := mail.ParseAddress(s); err != nil || a.Address != s {
				return n, refuse("SAN %q: not a valid e-mail address", s)
			}
			n.Emails = append(n.Emails, s)
		default:
			d, err := normalizeDNS(s)
			if err != nil {
				return n, err
			}
			if !seen[d] {
				n.DNS = append(n.DNS, d)
				seen[d] = true
			}
		}
	}
	return n, nil
}

func normalizeDNS(s string) (string, error) {
	s = strings.TrimSuffix(strings.ToLower(s), ".")
	wild := strings.HasPrefix(s, "*.")
	rest := strings.TrimPrefix(s, "*.")
	if strings.Contains(rest, "*") {
		return "", refuse("DNS name %q: a wildcard must be the whole leftmost label, and only one", s)
	}
	a, err := idna.Lookup.ToASCII(rest)
	if err != nil || a == "" || len(s) > 253 {
		return "", refuse("DNS name %q: not a valid host name", s)
	}
	for _, label := range strings.Split(a, ".") {
		if label == "" || len(label) > 63 {
			return "", refuse("DNS name %q: empty or over-long label", s)
		}
		if strings.Contains(label, "*") {
			return "", refuse("DNS name %q: a wildcard must be the whole leftmost label", s)
		}
	}
	if wild {
		return "*." + a, nil
	}
	return a, nil
}

// CheckNames applies the policy to a request's names.
func (p *Policy) CheckNames(n Names) error {
	if len(n.DNS)+len(n.IPs)+len(n.Emails)+len(n.URIs) == 0 {
		return refuse("the certificate needs at least one name (a common name or a SAN)")
	}
	if len(n.IPs) > 0 && !p.AllowIPs {
		return refuse("IP address SANs are not allowed by this authority's policy")
	}
	if len(n.Emails) > 0 && !p.AllowEmails {
		return refuse("e-mail SANs are not allowed by this authority's policy")
	}
	if len(n.URIs) > 0 && !p.AllowURIs {
		return refuse("URI SANs are not allowed by this authority's policy")
	}
	if len(n.DNS) > 100 {
		return refuse("%d DNS names: at most 100", len(n.DNS))
	}
	for _, d := range n.DNS {
		if err := p.checkDNS(d); err != nil {
			return err
		}
	}
	return nil
}

func (p *Policy) checkDNS(name string) error {
	base := name
	if strings.HasPrefix(name, "*.") {
		if !p.AllowWildcards {
			return refuse("wildcard %q: this authority's policy does not allow wildcards", name)
		}
		base = name[2:]
		if !strings.Contains(base, ".") {
			return refuse("wildcard %q: a wildcard needs at least two labels under it", name)
		}
		if ps, _ := publicsuffix.PublicSuffix(base); ps == base {
			return refuse("wildcard %q: covers a public suffix", name)
		}
	} else if ps, icann := publicsuffix.PublicSuffix(name); ps == name && icann {
		return refuse("DNS name %q is a public suffix", name)
	}
	if len(p.AllowedDomains) == 0 {
		return nil
	}
	for _, d := range p.AllowedDomains {
		d = strings.ToLower(d)
		if strings.HasPrefix(d, ".") {
			if strings.HasSuffix(base, d) || (name != base && base == d[1:]) {
				return nil
			}
		} else if base == d && name == base {
			return nil
		}
	}
	return refuse("DNS name %q is not in this authority's allowed domains %v", name, p.AllowedDomains)
}

// CheckValidity returns the lifetime to issue for a requested one (0 for
// the default), refusing one over the maximum.
func (p *Policy) CheckValidity(want time.Duration) (time.Duration, error) {
	if want < 0 {
		return 0, refuse("validity %s is negative", Duration(want))
	}
	if want == 0 {
		return p.defaultValidity(), nil
	}
	if want < time.Minute {
		return 0, refuse("validity %s is under a minute", Duration(want))
	}
	if max := p.maxValidity(); want > max {
		return 0, refuse("validity %s exceeds this authority's maximum of %s", Duration(want), Duration(max))
	}
	return want, nil
}

// CheckKeyType applies the policy's key types.
func (p *Policy) CheckKeyType(kt string) error {
	if len(p.KeyTypes) > 0 && !slices.Contains(p.KeyTypes, kt) {
		return refuse("key type %s is not allowed by this authority's policy (allowed: %v)", kt, p.KeyTypes)
	}
	return nil
}
