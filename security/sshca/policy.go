package sshca

import (
	"errors"
	"fmt"
	"net/netip"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Certificate types, as named in the API.
const (
	UserCert = "user"
	HostCert = "host"
)

// Extensions OpenSSH knows for user certificates.
var knownExtensions = []string{
	"permit-X11-forwarding", "permit-agent-forwarding", "permit-port-forwarding",
	"permit-pty", "permit-user-rc", "no-touch-required",
}

// DefaultExtensions are granted to user certificates unless a policy says
// otherwise: the set `ssh-keygen -s` grants.
var DefaultExtensions = []string{
	"permit-X11-forwarding", "permit-agent-forwarding", "permit-port-forwarding",
	"permit-pty", "permit-user-rc",
}

// DefaultUsernamePattern is the username rule of a policy that sets none:
// POSIX-portable login names of at most 32 characters.
const DefaultUsernamePattern = `^[a-z_][a-z0-9_.-]{0,31}$`

// DefaultUsernameBlocklist are system and administrator accounts no
// certificate names: the default of --sshca-blocked-usernames, and so the
// blocklist of a user policy that sets none. Only an admin may save a
// policy that leaves one off (see PolicyGuard).
var DefaultUsernameBlocklist = []string{
	"root", "admin", "administrator", "toor", "daemon", "bin", "sys", "sync", "games", "man", "lp", "mail", "news",
	"uucp", "proxy", "www-data", "backup", "list", "irc", "nobody", "sshd", "postgres",
}

// KeyRule allows one family of subject keys with a minimum size.
type KeyRule struct {
	// Type is "ed25519", "ecdsa", "rsa", "sk-ed25519" or "sk-ecdsa".
	Type string `json:"type"`
	// MinBits is the smallest allowed key size (0: any).
	MinBits int `json:"min_bits,omitempty"`
}

// DefaultKeyRules allow ed25519, ECDSA and RSA of at least 3072 bits, and
// security-key variants.
var DefaultKeyRules = []KeyRule{
	{Type: "ed25519"}, {Type: "sk-ed25519"}, {Type: "ecdsa", MinBits: 256},
	{Type: "sk-ecdsa"}, {Type: "rsa", MinBits: 3072},
}

// Policy decides what the CA signs for the identities and groups it
// matches. Durations are Go durations ("5m", "720h"). Lists left out get
// the defaults when the policy is saved; an empty list means none.
type Policy struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	// CertType is "user" or "host".
	CertType string `json:"cert_type"`
	// CA names the CA that signs (default: the one named like CertType).
	CA string `json:"ca"`
	// Identities are glob patterns of identities the policy applies to
	// ("*" for everyone); Groups are OIDC groups it applies to.
	Identities []string `json:"identities"`
	Groups     []string `json:"groups"`
	// Principals are glob patterns a certificate's principals must match;
	// "{{identity}}" stands for the caller's identity. Literal entries are
	// the principals of a request that names none.
	Principals []string `json:"principals"`
	// DefaultValidity and MaxValidity bound how long certificates last
	// (defaults: 5m/5m for users, 720h/8760h for hosts).
	DefaultValidity string `json:"default_validity"`
	MaxValidity     string `json:"max_validity"`
	// Backdate moves valid-after into the past for clock skew (default 2m).
	Backdate string `json:"backdate"`
	// SourceAddresses are CIDRs a certificate's source-address must lie
	// within; when set, every certificate carries a source-address (the
	// requested one, or these). Empty: any address, and none by default.
	SourceAddresses []string `json:"source_addresses"`
	// SourceAddressFromClient makes the default source-address the
	// requesting client's own address (as Bless does for its bastions).
	SourceAddressFromClient bool `json:"source_address_from_client"`
	// ForceCommand, when set, is forced on every certificate; a request for
	// another command is refused.
	ForceCommand string `json:"force_command"`
	// Extensions are those a certificate may carry (user certificates).
	Extensions []string `json:"extensions"`
	// KeyTypes are the subject key types and minimum sizes allowed.
	KeyTypes []KeyRule `json:"key_types"`
	// UsernamePattern is a regular expression every user principal must
	// match; UsernameBlocklist names principals never signed.
	UsernamePattern   string   `json:"username_pattern"`
	UsernameBlocklist []string `json:"username_blocklist"`
}

// compiledPolicy is a Policy parsed for checking requests.
type compiledPolicy struct {
	Policy
	certType      uint32
	defValidity   time.Duration
	maxValidity   time.Duration
	backdate      time.Duration
	sources       []netip.Prefix
	usernameRegex *regexp.Regexp
	keyRules      map[string]int
}

var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,62}$`)

// ValidName reports whether s may name a CA or a policy.
func ValidName(s string) error {
	if !namePattern.MatchString(s) {
		return fmt.Errorf("name: %q must be 1-63 characters of a-z, 0-9, '_', '.', '-', starting with a letter or digit", s)
	}
	return nil
}

// Normalize fills the defaults of fields left out (nil), so that the
// stored policy says everything it does.
func (p *Policy) Normalize() {
	if p.CertType == "" {
		p.CertType = UserCert
	}
	if p.CA == "" {
		p.CA = p.CertType
	}
	if p.Identities == nil {
		p.Identities = []string{}
	}
	if p.Groups == nil {
		p.Groups = []string{}
	}
	host := p.CertType == HostCert
	if p.Principals == nil {
		p.Principals = []string{"{{identity}}"}
		if host {
			p.Principals = []string{}
		}
	}
	if p.DefaultValidity == "" {
		p.DefaultValidity = map[bool]string{false: "5m", true: "720h"}[host]
	}
	if p.MaxValidity == "" {
		p.MaxValidity = map[bool]string{false: p.DefaultValidity, true: "8760h"}[host]
	}
	if p.Backdate == "" {
		p.Backdate = "2m"
	}
	if p.SourceAddresses == nil {
		p.SourceAddresses = []string{}
	}
	if p.Extensions == nil {
		p.Extensions = slices.Clone(DefaultExtensions)
		if host {
			p.Extensions = []string{}
		}
	}
	if p.KeyTypes == nil {
		p.KeyTypes = slices.Clone(DefaultKeyRules)
	}
	if p.UsernamePattern == "" && !host {
		p.UsernamePattern = DefaultUsernamePattern
	}
	if p.UsernameBlocklist == nil {
		p.UsernameBlocklist = slices.Clone(DefaultUsernameBlocklist)
		if host {
			p.UsernameBlocklist = []string{}
		}
	}
}

// Compile checks a normalized policy, naming the faulty field.
func (p Policy) compile() (*compiledPolicy, error) {
	c := &compiledPolicy{Policy: p}
	if err := ValidName(p.Name); err != nil {
		return nil, err
	}
	switch p.CertType {
	case UserCert:
		c.certType = 1
	case HostCert:
		c.certType = 2
	default:
		return nil, fmt.Errorf("cert_type: %q is not user or host", p.CertType)
	}
	if err := ValidName(p.CA); err != nil {
		return nil, fmt.Errorf("ca: %w", err)
	}
	if len(p.Identities) == 0 && len(p.Groups) == 0 {
		return nil, errors.New("identities: a policy must name at least one identity pattern or group")
	}
	for i, g := range append(append([]string{}, p.Identities...), p.Principals...) {
		if _, err := path.Match(g, ""); err != nil || g == "" {
			return nil, fmt.Errorf("identities/principals[%d]: %q is not a valid glob pattern", i, g)
		}
	}
	var err error
	for _, d := range []struct {
		field string
		text  string
		dst   *time.Duration
	}{{"default_validity", p.DefaultValidity, &c.defValidity}, {"max_validity", p.MaxValidity, &c.maxValidity}, {"backdate", p.Backdate, &c.backdate}} {
		if *d.dst, err = time.ParseDuration(d.text); err != nil || *d.dst < 0 {
			return nil, fmt.Errorf("%s: want a duration such as \"5m\", got %q", d.field, d.text)
		}
	}
	if c.defValidity <= 0 || c.maxValidity <= 0 {
		return nil, errors.New("default_validity, max_validity: must be positive")
	}
	if c.defValidity > c.maxValidity {
		return nil, fmt.Errorf("default_validity: %s is longer than max_validity %s", c.defValidity, c.maxValidity)
	}
	if c.backdate > time.Hour {
		return nil, errors.New("backdate: at most 1h")
	}
	for i, s := range p.SourceAddresses {
		pfx, err := parsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("source_addresses[%d]: %w", i, err)
		}
		c.sources = append(c.sources, pfx)
	}
	if strings.ContainsAny(p.ForceCommand, "\x00\n") {
		return nil, errors.New("force_command: must be one line")
	}
	for i, e := range p.Extensions {
		if p.CertType == HostCert {
			return nil, errors.New("extensions: host certificates carry none")
		}
		if !slices.Contains(knownExtensions, e) {
			return nil, fmt.Errorf("extensions[%d]: %q is not one of %s", i, e, strings.Join(knownExtensions, ", "))
		}
	}
	c.keyRules = map[string]int{}
	for i, r := range p.KeyTypes {
		switch r.Type {
		case "ed25519", "sk-ed25519", "ecdsa", "sk-ecdsa", "rsa":
		default:
			return nil, fmt.Errorf("key_types[%d].type: %q is not one of ed25519, ecdsa, rsa, sk-ed25519, sk-ecdsa", i, r.Type)
		}
		if r.Type == "rsa" && r.MinBits < 2048 {
			return nil, fmt.Errorf("key_types[%d].min_bits: RSA keys need at least 2048 bits", i)
		}
		c.keyRules[r.Type] = r.MinBits
	}
	if len(c.keyRules) == 0 {
		return nil, errors.New("key_types: allow at least one key type")
	}
	if p.UsernamePattern != "" {
		if c.usernameRegex, err = regexp.Compile(p.UsernamePattern); err != nil {
			return nil, fmt.Errorf("username_pattern: %w", err)
		}
	}
	return c, nil
}

// matchScore says how specifically the policy names the caller: 3 for the
// exact identity, 2 for one of its groups, 1 for a glob of identities, 0
// for not at all.
func (c *compiledPolicy) matchScore(identity string, groups []string) int {
	best := 0
	for _, pat := range c.Identities {
		if pat == identity {
			return 3
		}
		if ok, _ := path.Match(pat, identity); ok {
			best = 1
		}
	}
	for _, g := range c.Groups {
		if slices.Contains(groups, g) {
			best = max(best, 2)
		}
	}
	return best
}

// selectPolicy returns the policy for a caller and certificate type: the
// most specific match, ties broken by name.
func selectPolicy(policies []*compiledPolicy, certType uint32, identity string, groups []string) *compiledPolicy {
	var best *compiledPolicy
	bestScore := 0
	for _, p := range policies {
		if p.certType != certType {
			continue
		}
		s := p.matchScore(identity, groups)
		if s > bestScore || (s == bestScore && s > 0 && p.Name < best.Name) {
			best, bestScore = p, s
		}
	}
	return best
}

func parsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not an address or CIDR", s)
		}
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not an address or CIDR", s)
	}
	return p.Masked(), nil
}

// within reports whether prefix p lies inside one of nets.
func within(p netip.Prefix, nets []netip.Prefix) bool {
	for _, n := range nets {
		if n.Addr().Is4() == p.Addr().Is4() && n.Bits() <= p.Bits() && n.Contains(p.Addr()) {
			return true
		}
	}
	return false
}
