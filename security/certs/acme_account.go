package certs

import (
	"context"
	"crypto"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
	"github.com/gaffer-sre/gaffer/internal/platform/store"
)

// acmeAccount is an ACME account.
type acmeAccount struct {
	ID     string
	Status string
	// Authority is the authority the account registered with; it is used
	// there only. Accounts from before accounts were bound to an
	// authority have none and are refused everywhere.
	Authority string
	Contact   []string
	key       *jose.JSONWebKey
}

func thumbprint(k *jose.JSONWebKey) (string, error) {
	tp, err := k.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(tp), nil
}

func (a *acmeServer) account(ctx context.Context, id string) (*acmeAccount, error) {
	var jwkJSON, contact string
	acct := &acmeAccount{ID: id}
	err := a.mgr.store.QueryRowContext(ctx, `SELECT jwk, contact, status, authority FROM certs_acme_accounts WHERE id = ?`, id).
		Scan(&jwkJSON, &contact, &acct.Status, &acct.Authority)
	if err != nil {
		return nil, err
	}
	acct.key = &jose.JSONWebKey{}
	if err := acct.key.UnmarshalJSON([]byte(jwkJSON)); err != nil {
		return nil, fmt.Errorf("acme: account %s key: %w", id, err)
	}
	if contact != "" {
		acct.Contact = strings.Split(contact, ",")
	}
	return acct, nil
}

func (a *acmeServer) accountJSON(w http.ResponseWriter, r *http.Request, acct *acmeAccount, status int) error {
	if err := a.addNonce(w, r); err != nil {
		return err
	}
	w.Header().Set("Location", a.base(r)+"/account/"+acct.ID)
	contact := acct.Contact
	if contact == nil {
		contact = []string{}
	}
	return httpapi.WriteJSON(w, status, map[string]any{"status": acct.Status, "contact": contact,
		"orders": a.base(r) + "/account/" + acct.ID + "/orders"})
}

func (a *acmeServer) newAccount(w http.ResponseWriter, r *http.Request, req *acmeRequest) error {
	if req.account != nil {
		return problem(http.StatusBadRequest, probMalformed, "newAccount must be signed with a jwk, not a kid")
	}
	var p struct {
		Contact                []string        `json:"contact"`
		TermsOfServiceAgreed   bool            `json:"termsOfServiceAgreed"`
		OnlyReturnExisting     bool            `json:"onlyReturnExisting"`
		ExternalAccountBinding json.RawMessage `json:"externalAccountBinding"`
	}
	if err := json.Unmarshal(req.payload, &p); err != nil {
		return problem(http.StatusBadRequest, probMalformed, "payload: %v", err)
	}
	tp, err := thumbprint(req.jwk)
	if err != nil {
		return problem(http.StatusBadRequest, probMalformed, "jwk: %v", err)
	}
	var id string
	err = a.mgr.store.QueryRowContext(r.Context(), `SELECT id FROM certs_acme_accounts WHERE thumbprint = ?`, tp).Scan(&id)
	ca := r.PathValue("ca")
	if err == nil {
		acct, err := a.account(r.Context(), id)
		if err != nil {
			return err
		}
		if acct.Authority != ca {
			return problem(http.StatusUnauthorized, probUnauthorized,
				"this account key belongs to an account of another authority, or to one made before accounts were bound to an authority: register with a new account key")
		}
		httpapi.SetAuditActor(r, "acme-account:"+id)
		return a.accountJSON(w, r, acct, http.StatusOK)
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if p.OnlyReturnExisting {
		return problem(http.StatusBadRequest, probAccountNotExist, "no account for this key")
	}
	for _, c := range p.Contact {
		if !strings.HasPrefix(c, "mailto:") || strings.Contains(c, ",") {
			return problem(http.StatusBadRequest, acmeErr+"invalidContact", "contact %q: only mailto: addresses", c)
		}
	}
	eabKID, err := a.checkBinding(r, req, p.ExternalAccountBinding)
	if err != nil {
		return err
	}
	keyJSON, err := req.jwk.MarshalJSON()
	if err != nil {
		return err
	}
	acct := &acmeAccount{ID: randomID(12), Status: "valid", Authority: ca, Contact: p.Contact, key: req.jwk}
	now := a.mgr.now()
	err = a.mgr.store.InTx(r.Context(), func(tx *store.Tx) error {
		if eabKID != "" {
			if err := bindEABKey(r.Context(), tx, ca, eabKID, acct.ID, now); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(r.Context(), `INSERT INTO certs_acme_accounts (id, thumbprint, jwk, contact, status, created_at, authority, eab_key_id)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, acct.ID, tp, string(keyJSON), strings.Join(p.Contact, ","), acct.Status, now.UnixMilli(), ca, eabKID)
		return err
	})
	switch {
	case errors.Is(err, errEABKeyUsed):
		return problem(http.StatusUnauthorized, probUnauthorized, "externalAccountBinding: EAB key %s already created an account; ask for a new key", eabKID)
	case errors.Is(err, errEABKeyUnknown):
		return problem(http.StatusUnauthorized, probUnauthorized, "externalAccountBinding: EAB key %s was revoked", eabKID)
	case err != nil:
		return fmt.Errorf("acme: store account: %w", err)
	}
	httpapi.SetAuditActor(r, "acme-account:"+acct.ID)
	httpapi.SetAuditTarget(r, "acme-account:"+acct.ID)
	if eabKID != "" {
		httpapi.SetAuditDetail(r, "bound to EAB key "+eabKID)
	} else {
		httpapi.SetAuditDetail(r, "anonymous account: authority "+ca+" allows ACME accounts without external account binding")
	}
	return a.accountJSON(w, r, acct, http.StatusCreated)
}

func (a *acmeServer) accountUpdate(w http.ResponseWriter, r *http.Request, req *acmeRequest) error {
	if req.account == nil || req.account.ID != r.PathValue("id") {
		return problem(http.StatusUnauthorized, probUnauthorized, "not this account's key")
	}
	acct := req.account
	if len(req.payload) > 0 {
		var p struct {
			Status  string   `json:"status"`
			Contact []string `json:"contact"`
		}
		if err := json.Unmarshal(req.payload, &p); err != nil {
			return problem(http.StatusBadRequest, probMalformed, "payload: %v", err)
		}
		if p.Status != "" && p.Status != "deactivated" {
			return problem(http.StatusBadRequest, probMalformed, "status may only become deactivated")
		}
		if p.Status != "" {
			acct.Status = p.Status
		}
		if p.Contact != nil {
			acct.Contact = p.Contact
		}
		if _, err := a.mgr.store.ExecContext(r.Context(), `UPDATE certs_acme_accounts SET status = ?, contact = ? WHERE id = ?`,
			acct.Status, strings.Join(acct.Contact, ","), acct.ID); err != nil {
			return err
		}
	}
	return a.accountJSON(w, r, acct, http.StatusOK)
}

func (a *acmeServer) accountOrders(w http.ResponseWriter, r *http.Request, req *acmeRequest) error {
	if req.account == nil || req.account.ID != r.PathValue("id") {
		return problem(http.StatusUnauthorized, probUnauthorized, "not this account's key")
	}
	rows, err := a.mgr.store.QueryContext(r.Context(), `SELECT id FROM certs_acme_orders
		WHERE account_id = ? AND status IN ('pending', 'ready', 'processing', 'valid') ORDER BY created_at LIMIT 1000`, req.account.ID)
	if err != nil {
		return err
	}
	defer rows.Close()
	orders := []string{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return err
		}
		orders = append(orders, a.base(r)+"/order/"+id)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if err := a.addNonce(w, r); err != nil {
		return err
	}
	return httpapi.WriteJSON(w, http.StatusOK, map[string]any{"orders": orders})
}

func (a *acmeServer) keyChange(w http.ResponseWriter, r *http.Request, req *acmeRequest) error {
	if req.account == nil {
		return problem(http.StatusUnauthorized, probUnauthorized, "key-change must be signed by the account (kid)")
	}
	inner, err := jose.ParseSigned(string(req.payload), acmeAlgs)
	if err != nil || len(inner.Signatures) != 1 || inner.Signatures[0].Protected.JSONWebKey == nil {
		return problem(http.StatusBadRequest, probMalformed, "key-change payload must be a JWS signed with the new jwk")
	}
	newKey := inner.Signatures[0].Protected.JSONWebKey
	if u, _ := inner.Signatures[0].Protected.ExtraHeaders["url"].(string); u != req.url {
		return problem(http.StatusBadRequest, probMalformed, "inner JWS url must equal the outer one")
	}
	payload, err := inner.Verify(newKey)
	if err != nil {
		return problem(http.StatusBadRequest, probMalformed, "inner JWS signature does not verify")
	}
	var p struct {
		Account string          `json:"account"`
		OldKey  json.RawMessage `json:"oldKey"`
	}
	if err := json.Unmarshal(payload, &p); err != nil || p.Account != a.base(r)+"/account/"+req.account.ID {
		return problem(http.StatusBadRequest, probMalformed, "inner payload must name this account")
	}
	var old jose.JSONWebKey
	if err := old.UnmarshalJSON(p.OldKey); err != nil {
		return problem(http.StatusBadRequest, probMalformed, "oldKey: %v", err)
	}
	oldTP, _ := thumbprint(&old)
	curTP, _ := thumbprint(req.account.key)
	newTP, err := thumbprint(newKey)
	if err != nil || oldTP != curTP {
		return problem(http.StatusBadRequest, probMalformed, "oldKey is not the account's key")
	}
	keyJSON, _ := newKey.MarshalJSON()
	if _, err := a.mgr.store.ExecContext(r.Context(), `UPDATE certs_acme_accounts SET jwk = ?, thumbprint = ? WHERE id = ?`,
		string(keyJSON), newTP, req.account.ID); err != nil {
		return problem(http.StatusConflict, probMalformed, "the new key belongs to another account")
	}
	req.account.key = newKey
	return a.accountJSON(w, r, req.account, http.StatusOK)
}

// checkBinding decides whether a new account may be created: with a valid
// external account binding it returns the EAB key id; without one it
// refuses with externalAccountRequired unless the authority allows
// anonymous accounts.
func (a *acmeServer) checkBinding(r *http.Request, req *acmeRequest, eab json.RawMessage) (string, error) {
	ca := r.PathValue("ca")
	settings, err := a.mgr.ACMEServer(r.Context(), ca)
	if err != nil {
		return "", err
	}
	if len(eab) == 0 || string(eab) == "null" {
		if settings.AnonymousAccounts {
			return "", nil
		}
		return "", problem(http.StatusForbidden, probExternalAccountRequired,
			"authority %s requires external account binding: ask an admin for an EAB key (gaffer certs acme eab create %s)", ca, ca)
	}
	return verifyEAB(eab, req.url, req.jwk, func(kid string) ([]byte, error) {
		return a.mgr.eabHMACKey(r.Context(), ca, kid)
	})
}
