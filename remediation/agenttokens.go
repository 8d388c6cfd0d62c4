package remediation

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gaffer-sre/gaffer/internal/platform/auth"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
	"github.com/gaffer-sre/gaffer/remediation/agent"
)

// A token minted for an agent name that already exists replaces the old
// one: minting needs the admin scope, and revokes every earlier token of
// the name and disconnects its NATS connections. remediation:write may
// mint only the first token of a name never seen before (no token, live
// or revoked, and no registration), so revoking an agent and minting it
// again is an admin's act too.

// mintedToken is a new agent token and the earlier ones it revoked.
type mintedToken struct {
	AgentToken
	TokenID string
	Revoked []string
}

// mint creates a token for agent name on behalf of caller.
func (a *agents) mint(ctx context.Context, name string, caller *auth.Principal) (mintedToken, error) {
	a.mintMu.Lock()
	defer a.mintMu.Unlock()
	identity := agent.NATSUserPrefix + name
	before, err := a.tokensOf(ctx, identity, false)
	if err != nil {
		return mintedToken{}, err
	}
	registered, err := a.registered(ctx, name)
	if err != nil {
		return mintedToken{}, err
	}
	admin := caller.Has(auth.AdminScope)
	if (len(before) > 0 || registered) && !admin {
		return mintedToken{}, httpapi.Errorf(http.StatusForbidden, "forbidden",
			"name: agent %q already exists (it has had a token or has registered); only an admin may mint it a new token, "+
				"which revokes the old one", name)
	}
	tok, secret, err := a.s.tokens.Create(ctx, auth.CreateRequest{Name: "agent " + name, Identity: identity,
		Scopes: []string{agent.AgentScope}, CreatedBy: caller.Actor()})
	if err != nil {
		return mintedToken{}, fmt.Errorf("remediation: create the token of agent %s: %w", name, err)
	}
	out := mintedToken{AgentToken: AgentToken{Name: name, Secret: secret}, TokenID: tok.ID}
	live, err := a.tokensOf(ctx, identity, true)
	if err != nil {
		return mintedToken{}, err
	}
	for _, id := range live {
		if id == tok.ID {
			continue
		}
		if !admin {
			// Another process minted the name's first token meanwhile:
			// neither caller gets a second live token for it.
			if err := a.s.tokens.Revoke(ctx, tok.ID); err != nil {
				return mintedToken{}, err
			}
			return mintedToken{}, httpapi.Conflict("name: agent %q was given a token by someone else meanwhile", name)
		}
		if err := a.s.tokens.Revoke(ctx, id); err != nil {
			return mintedToken{}, fmt.Errorf("remediation: revoke the old token of agent %s: %w", name, err)
		}
		out.Revoked = append(out.Revoked, id)
	}
	if len(out.Revoked) > 0 {
		a.disconnect(name, "a new token was minted by "+caller.Actor())
	}
	return out, nil
}

// tokensOf lists the IDs of the tokens bound to identity: only the live
// ones, or all.
func (a *agents) tokensOf(ctx context.Context, identity string, liveOnly bool) ([]string, error) {
	toks, err := a.s.tokens.List(ctx)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, t := range toks {
		if t.Identity == identity && (!liveOnly || t.RevokedAt == nil) {
			ids = append(ids, t.ID)
		}
	}
	return ids, nil
}

// registered reports whether agent name has ever said hello.
func (a *agents) registered(ctx context.Context, name string) (bool, error) {
	var n string
	err := a.db.QueryRowContext(ctx, `SELECT name FROM remediation_agents WHERE name = ?`, name).Scan(&n)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("remediation: look up agent %s: %w", name, err)
	}
	return true, nil
}

// revokeAll revokes every live token of agent name and disconnects it; it
// returns how many tokens it revoked.
func (a *agents) revokeAll(ctx context.Context, name, by string) (int, error) {
	live, err := a.tokensOf(ctx, agent.NATSUserPrefix+name, true)
	if err != nil {
		return 0, err
	}
	for _, id := range live {
		if err := a.s.tokens.Revoke(ctx, id); err != nil {
			return 0, err
		}
	}
	a.disconnect(name, "revoked by "+by)
	return len(live), nil
}

func (s *Service) apiAgentToken(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	if err := agent.ValidName(name); err != nil {
		return httpapi.BadRequest("%v", err)
	}
	httpapi.SetAuditTarget(r, "agent:"+name)
	m, err := s.agents.mint(r.Context(), name, auth.FromContext(r.Context()))
	if err != nil {
		return err
	}
	detail := "token=" + m.TokenID
	if len(m.Revoked) > 0 {
		detail += " revoked=" + strings.Join(m.Revoked, ",")
	}
	httpapi.SetAuditDetail(r, detail)
	return httpapi.WriteJSON(w, http.StatusCreated, m.AgentToken)
}

func (s *Service) apiRevokeAgent(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	httpapi.SetAuditTarget(r, "agent:"+name)
	n, err := s.agents.revokeAll(r.Context(), name, actor(r))
	if err != nil {
		return err
	}
	httpapi.SetAuditDetail(r, fmt.Sprintf("tokens revoked=%d", n))
	w.WriteHeader(http.StatusNoContent)
	return nil
}
