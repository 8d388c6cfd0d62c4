package sshca

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Defaults of the PolicyGuard: a user certificate lasts at most a day and
// a host certificate a year unless an admin saves a policy allowing more.
const (
	DefaultMaxUserValidity = 24 * time.Hour
	DefaultMaxHostValidity = 8760 * time.Hour
)

// PolicyGuard is the line between the policies sshca:write may save and
// those that need the admin scope. A policy is privileged when it lets
// callers sign for names other than their own identity, when it leaves a
// blocked user name off its blocklist, or when its max_validity is above
// the ceiling for its certificate type.
type PolicyGuard struct {
	// BlockedUsernames are user names (system accounts) that every policy
	// saved without admin must keep on its username_blocklist.
	BlockedUsernames []string
	// MaxUserValidity and MaxHostValidity are the longest max_validity a
	// policy saved without admin may set, for user and host certificates.
	MaxUserValidity time.Duration
	MaxHostValidity time.Duration
}

// DefaultPolicyGuard is the guard of a server started without the
// --sshca-blocked-usernames and --sshca-max-*-validity flags.
func DefaultPolicyGuard() PolicyGuard {
	return PolicyGuard{BlockedUsernames: slices.Clone(DefaultUsernameBlocklist),
		MaxUserValidity: DefaultMaxUserValidity, MaxHostValidity: DefaultMaxHostValidity}
}

// validate checks the guard's own settings.
func (g PolicyGuard) validate() error {
	if g.MaxUserValidity <= 0 {
		return fmt.Errorf("sshca-max-user-validity: must be positive, got %s", g.MaxUserValidity)
	}
	if g.MaxHostValidity <= 0 {
		return fmt.Errorf("sshca-max-host-validity: must be positive, got %s", g.MaxHostValidity)
	}
	for _, u := range g.BlockedUsernames {
		if err := checkPrincipal(u); err != nil {
			return fmt.Errorf("sshca-blocked-usernames: %w", err)
		}
	}
	return nil
}

// needsAdmin returns why saving the normalized, valid policy p needs the
// admin scope, naming the field; nil when sshca:write suffices.
func (g PolicyGuard) needsAdmin(p *compiledPolicy) *Refusal {
	deny := func(format string, args ...any) *Refusal {
		return &Refusal{Status: http.StatusForbidden, Code: "forbidden",
			Reason: fmt.Sprintf(format, args...) + "; only an admin token may save such a policy"}
	}
	for i, pr := range p.Principals {
		if pr != "{{identity}}" {
			return deny("principals[%d]: %q goes beyond {{identity}}: it lets callers sign for names other than their own", i, pr)
		}
	}
	if p.CertType == UserCert {
		for _, u := range g.BlockedUsernames {
			if !slices.Contains(p.UsernameBlocklist, u) {
				return deny("username_blocklist: leaves out %q, a user name the server blocks (--sshca-blocked-usernames)", u)
			}
		}
	}
	ceiling, flag := g.MaxUserValidity, "--sshca-max-user-validity"
	if p.CertType == HostCert {
		ceiling, flag = g.MaxHostValidity, "--sshca-max-host-validity"
	}
	if p.maxValidity > ceiling {
		return deny("max_validity: %s is above the %s ceiling for %s certificates (%s)", p.maxValidity, ceiling, p.CertType, flag)
	}
	return nil
}

// policyDiff describes a policy change field by field for the audit log:
// "created {...}" for a new policy, "deleted {...}" for a removed one,
// otherwise `field: before -> after` for each changed JSON field, in the
// order of the JSON document.
func policyDiff(before, after *Policy) string {
	switch {
	case before == nil && after == nil:
		return ""
	case before == nil:
		b, _ := json.Marshal(after)
		return "created " + string(b)
	case after == nil:
		b, _ := json.Marshal(before)
		return "deleted " + string(b)
	}
	old, err1 := policyFields(before)
	cur, err2 := policyFields(after)
	if err1 != nil || err2 != nil {
		return "changed (diff unavailable)"
	}
	var parts []string
	for _, f := range cur {
		was := fieldValue(old, f.name)
		if !bytes.Equal(was, f.value) {
			parts = append(parts, fmt.Sprintf("%s: %s -> %s", f.name, was, f.value))
		}
	}
	if len(parts) == 0 {
		return "unchanged"
	}
	return strings.Join(parts, "; ")
}

type policyField struct {
	name  string
	value json.RawMessage
}

// policyFields returns p's JSON fields in document order.
func policyFields(p *Policy) ([]policyField, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	var out []policyField
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		out = append(out, policyField{name: tok.(string), value: v})
	}
	return out, nil
}

func fieldValue(fields []policyField, name string) json.RawMessage {
	for _, f := range fields {
		if f.name == name {
			return f.value
		}
	}
	return json.RawMessage("null")
}
