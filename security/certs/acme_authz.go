package certs

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
)

type acmeChallenge struct {
	ID        string
	Type      string
	Token     string
	Status    string
	Validated *time.Time
	Error     string
}

type acmeAuthz struct {
	ID         string
	Order      string
	Account    string
	Identifier string
	Wildcard   bool
	Status     string
	Expires    time.Time
	Challenges []acmeChallenge
}

func (a *acmeServer) loadAuthz(ctx context.Context, id string) (*acmeAuthz, error) {
	z := &acmeAuthz{ID: id}
	var exp int64
	err := a.mgr.store.QueryRowContext(ctx, `SELECT order_id, account_id, identifier, wildcard, status, expires_at
		FROM certs_acme_authzs WHERE id = ?`, id).Scan(&z.Order, &z.Account, &z.Identifier, &z.Wildcard, &z.Status, &exp)
	if err != nil {
		return nil, problem(http.StatusNotFound, probMalformed, "no authorization %s", id)
	}
	z.Expires = time.UnixMilli(exp).UTC()
	rows, err := a.mgr.store.QueryContext(ctx, `SELECT id, type, token, status, validated_at, error
		FROM certs_acme_challenges WHERE authz_id = ? ORDER BY type`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var c acmeChallenge
		var v sql.NullInt64
		if err := rows.Scan(&c.ID, &c.Type, &c.Token, &c.Status, &v, &c.Error); err != nil {
			return nil, err
		}
		if v.Valid {
			t := time.UnixMilli(v.Int64).UTC()
			c.Validated = &t
		}
		z.Challenges = append(z.Challenges, c)
	}
	return z, rows.Err()
}

func (a *acmeServer) challengeBody(r *http.Request, c acmeChallenge) map[string]any {
	m := map[string]any{"type": c.Type, "url": a.base(r) + "/chall/" + c.ID, "token": c.Token, "status": c.Status}
	if c.Validated != nil {
		m["validated"] = c.Validated.Format(time.RFC3339)
	}
	if c.Error != "" {
		m["error"] = json.RawMessage(c.Error)
	}
	return m
}

func (a *acmeServer) ownAuthz(r *http.Request, req *acmeRequest, id string) (*acmeAuthz, error) {
	if err := a.needAccount(req); err != nil {
		return nil, err
	}
	z, err := a.loadAuthz(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if z.Account != req.account.ID {
		return nil, problem(http.StatusUnauthorized, probUnauthorized, "authorization %s belongs to another account", id)
	}
	return z, nil
}

func (a *acmeServer) getAuthz(w http.ResponseWriter, r *http.Request, req *acmeRequest) error {
	z, err := a.ownAuthz(r, req, r.PathValue("id"))
	if err != nil {
		return err
	}
	if len(req.payload) > 0 {
		var p struct {
			Status string `json:"status"`
		}
		if err := json.Unmarshal(req.payload, &p); err != nil || p.Status != "deactivated" {
			return problem(http.StatusBadRequest, probMalformed, "an authorization may only be deactivated")
		}
		if _, err := a.mgr.store.ExecContext(r.Context(), `UPDATE certs_acme_authzs SET status = 'deactivated' WHERE id = ?`, z.ID); err != nil {
			return err
		}
		z.Status = "deactivated"
	}
	if z.Status == "pending" && a.mgr.now().After(z.Expires) {
		z.Status = "expired"
	}
	if err := a.addNonce(w, r); err != nil {
		return err
	}
	var chals []map[string]any
	for _, c := range z.Challenges {
		chals = append(chals, a.challengeBody(r, c))
	}
	body := map[string]any{"status": z.Status, "expires": z.Expires.Format(time.RFC3339),
		"identifier": acmeIdentifier{Type: "dns", Value: z.Identifier}, "challenges": chals}
	if z.Wildcard {
		body["wildcard"] = true
	}
	return httpapi.WriteJSON(w, http.StatusOK, body)
}

// respondChallenge validates a challenge at once (the client has its
// responder ready when it asks) and answers with the outcome.
func (a *acmeServer) respondChallenge(w http.ResponseWriter, r *http.Request, req *acmeRequest) error {
	if err := a.needAccount(req); err != nil {
		return err
	}
	var chID, authzID string
	if err := a.mgr.store.QueryRowContext(r.Context(), `SELECT id, authz_id FROM certs_acme_challenges WHERE id = ?`,
		r.PathValue("id")).Scan(&chID, &authzID); err != nil {
		return problem(http.StatusNotFound, probMalformed, "no challenge %s", r.PathValue("id"))
	}
	z, err := a.ownAuthz(r, req, authzID)
	if err != nil {
		return err
	}
	httpapi.SetAuditTarget(r, "acme-authz:"+z.ID+"/"+z.Identifier)
	var ch acmeChallenge
	for _, c := range z.Challenges {
		if c.ID == chID {
			ch = c
		}
	}
	if ch.Status == "pending" && z.Status == "pending" {
		tp, err := thumbprint(req.account.key)
		if err != nil {
			return err
		}
		now := a.mgr.now()
		verr := a.validator.validate(r.Context(), ch.Type, z.Identifier, ch.Token, ch.Token+"."+tp)
		if verr == nil {
			ch.Status, ch.Validated = "valid", &now
			_, err = a.mgr.store.ExecContext(r.Context(), `UPDATE certs_acme_challenges SET status = 'valid', validated_at = ? WHERE id = ?`, now.UnixMilli(), ch.ID)
			if err == nil {
				_, err = a.mgr.store.ExecContext(r.Context(), `UPDATE certs_acme_authzs SET status = 'valid' WHERE id = ?`, z.ID)
			}
			httpapi.SetAuditDetail(r, ch.Type+" validated")
		} else {
			prob, _ := json.Marshal(verr)
			ch.Status, ch.Error = "invalid", string(prob)
			_, err = a.mgr.store.ExecContext(r.Context(), `UPDATE certs_acme_challenges SET status = 'invalid', error = ? WHERE id = ?`, ch.Error, ch.ID)
			if err == nil {
				_, err = a.mgr.store.ExecContext(r.Context(), `UPDATE certs_acme_authzs SET status = 'invalid' WHERE id = ?`, z.ID)
			}
			httpapi.SetAuditDetail(r, ch.Type+" failed: "+verr.Detail)
		}
		if err != nil {
			return err
		}
	}
	if err := a.addNonce(w, r); err != nil {
		return err
	}
	w.Header().Add("Link", "<"+a.base(r)+"/authz/"+z.ID+">;rel=\"up\"")
	return httpapi.WriteJSON(w, http.StatusOK, a.challengeBody(r, ch))
}
