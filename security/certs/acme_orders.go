package certs

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
	"github.com/gaffer-sre/gaffer/internal/platform/store"
)

type acmeIdentifier struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

type acmeOrder struct {
	ID          string
	Account     string
	Status      string
	Identifiers []acmeIdentifier
	Expires     time.Time
	Error       string
	CertSerial  string
	Authzs      []string
}

func (a *acmeServer) loadOrder(ctx context.Context, id string) (*acmeOrder, error) {
	o := &acmeOrder{ID: id}
	var ids string
	var exp int64
	err := a.mgr.store.QueryRowContext(ctx, `SELECT account_id, status, identifiers, expires_at, error, cert_serial
		FROM certs_acme_orders WHERE id = ?`, id).Scan(&o.Account, &o.Status, &ids, &exp, &o.Error, &o.CertSerial)
	if err != nil {
		return nil, problem(http.StatusNotFound, probMalformed, "no order %s", id)
	}
	o.Expires = time.UnixMilli(exp).UTC()
	json.Unmarshal([]byte(ids), &o.Identifiers)
	rows, err := a.mgr.store.QueryContext(ctx, `SELECT id, status FROM certs_acme_authzs WHERE order_id = ? ORDER BY identifier`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	valid, invalid := 0, 0
	for rows.Next() {
		var aid, st string
		if err := rows.Scan(&aid, &st); err != nil {
			return nil, err
		}
		o.Authzs = append(o.Authzs, aid)
		switch st {
		case "valid":
			valid++
		case "invalid", "deactivated", "revoked":
			invalid++
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	next := o.Status
	switch {
	case o.Status == "pending" && invalid > 0:
		next, o.Error = "invalid", "an authorization failed"
	case o.Status == "pending" && valid == len(o.Authzs):
		next = "ready"
	case (o.Status == "pending" || o.Status == "ready") && a.mgr.now().After(o.Expires):
		next = "invalid"
	}
	if next != o.Status {
		o.Status = next
		if _, err := a.mgr.store.ExecContext(ctx, `UPDATE certs_acme_orders SET status = ?, error = ? WHERE id = ?`, o.Status, o.Error, id); err != nil {
			return nil, err
		}
	}
	return o, nil
}

func (a *acmeServer) orderJSON(w http.ResponseWriter, r *http.Request, o *acmeOrder, status int) error {
	if err := a.addNonce(w, r); err != nil {
		return err
	}
	b := a.base(r)
	w.Header().Set("Location", b+"/order/"+o.ID)
	authz := make([]string, len(o.Authzs))
	for i, id := range o.Authzs {
		authz[i] = b + "/authz/" + id
	}
	body := map[string]any{"status": o.Status, "expires": o.Expires.Format(time.RFC3339), "identifiers": o.Identifiers,
		"authorizations": authz, "finalize": b + "/order/" + o.ID + "/finalize"}
	if o.CertSerial != "" {
		body["certificate"] = b + "/cert/" + o.CertSerial
	}
	if o.Error != "" {
		body["error"] = acmeProblem{Type: probUnauthorized, Detail: o.Error, Status: 403}
	}
	return httpapi.WriteJSON(w, status, body)
}

// acmeNeedsAllowedDomains refuses ACME orders from an authority whose
// policy lists no allowed domains. The token API treats an empty list as
// "any name that is not a public suffix"; the ACME server, which anyone
// holding an account reaches, never does.
func acmeNeedsAllowedDomains(ca *CA) error {
	if len(ca.Policy.AllowedDomains) == 0 {
		return problem(http.StatusForbidden, probRejectedID,
			"authority %s has no policy.allowed_domains: its ACME server refuses every order until an admin sets them (PUT /api/v1/certs/authorities/%s/policy)",
			ca.Name, ca.Name)
	}
	return nil
}

func (a *acmeServer) needAccount(req *acmeRequest) error {
	if req.account == nil {
		return problem(http.StatusUnauthorized, probMalformed, "this request must be signed by an account (kid)")
	}
	return nil
}

func (a *acmeServer) newOrder(w http.ResponseWriter, r *http.Request, req *acmeRequest) error {
	if err := a.needAccount(req); err != nil {
		return err
	}
	var p struct {
		Identifiers []acmeIdentifier `json:"identifiers"`
		NotBefore   string           `json:"notBefore"`
		NotAfter    string           `json:"notAfter"`
	}
	if err := json.Unmarshal(req.payload, &p); err != nil {
		return problem(http.StatusBadRequest, probMalformed, "payload: %v", err)
	}
	if len(p.Identifiers) == 0 || len(p.Identifiers) > 100 {
		return problem(http.StatusBadRequest, probMalformed, "an order needs 1 to 100 identifiers")
	}
	if p.NotBefore != "" || p.NotAfter != "" {
		return problem(http.StatusBadRequest, probMalformed, "notBefore and notAfter are not supported; the authority's policy sets validity")
	}
	ca, err := a.mgr.CA(r.Context(), r.PathValue("ca"))
	if err != nil {
		return err
	}
	if err := acmeNeedsAllowedDomains(ca); err != nil {
		return err
	}
	var names []string
	for _, id := range p.Identifiers {
		if id.Type != "dns" {
			return problem(http.StatusBadRequest, probUnsupportedID, "identifier type %q: only dns", id.Type)
		}
		names = append(names, id.Value)
	}
	parsed, err := ParseNames(names)
	if err != nil {
		return problem(http.StatusBadRequest, probRejectedID, "%v", err)
	}
	if len(parsed.DNS) != len(names) {
		return problem(http.StatusBadRequest, probRejectedID, "identifiers must be distinct DNS names")
	}
	if err := ca.Policy.CheckNames(parsed); err != nil {
		return problem(http.StatusForbidden, probRejectedID, "%v", err)
	}
	for _, n := range parsed.DNS {
		if strings.HasPrefix(n, "*.") && a.settings.ACMEDNSResolver == "" {
			return problem(http.StatusForbidden, probRejectedID, "wildcard %s needs dns-01, which this server does not offer", n)
		}
	}
	o := &acmeOrder{ID: randomID(12), Account: req.account.ID, Status: "pending", Expires: a.mgr.now().Add(acmeOrderTTL).UTC().Truncate(time.Second)}
	for _, n := range parsed.DNS {
		o.Identifiers = append(o.Identifiers, acmeIdentifier{Type: "dns", Value: n})
	}
	idJSON, _ := json.Marshal(o.Identifiers)
	err = a.mgr.store.InTx(r.Context(), func(tx *store.Tx) error {
		if _, err := tx.ExecContext(r.Context(), `INSERT INTO certs_acme_orders (id, account_id, status, identifiers, expires_at, created_at)
			VALUES (?, ?, ?, ?, ?, ?)`, o.ID, o.Account, o.Status, string(idJSON), o.Expires.UnixMilli(), a.mgr.now().UnixMilli()); err != nil {
			return err
		}
		for _, id := range o.Identifiers {
			wild := strings.HasPrefix(id.Value, "*.")
			aid := randomID(12)
			if _, err := tx.ExecContext(r.Context(), `INSERT INTO certs_acme_authzs (id, order_id, account_id, identifier, wildcard, status, expires_at)
				VALUES (?, ?, ?, ?, ?, 'pending', ?)`, aid, o.ID, o.Account, strings.TrimPrefix(id.Value, "*."), wild, o.Expires.UnixMilli()); err != nil {
				return err
			}
			types := []string{"http-01", "tls-alpn-01"}
			if a.settings.ACMEDNSResolver != "" {
				types = append(types, "dns-01")
			}
			if wild {
				types = []string{"dns-01"}
			}
			token := randomID(32)
			for _, t := range types {
				if _, err := tx.ExecContext(r.Context(), `INSERT INTO certs_acme_challenges (id, authz_id, type, token, status)
					VALUES (?, ?, ?, ?, 'pending')`, randomID(12), aid, t, token); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("acme: store order: %w", err)
	}
	httpapi.SetAuditTarget(r, "acme-order:"+o.ID)
	httpapi.SetAuditDetail(r, "identifiers "+strings.Join(parsed.DNS, ","))
	o, err = a.loadOrder(r.Context(), o.ID)
	if err != nil {
		return err
	}
	return a.orderJSON(w, r, o, http.StatusCreated)
}

func (a *acmeServer) ownOrder(r *http.Request, req *acmeRequest, id string) (*acmeOrder, error) {
	if err := a.needAccount(req); err != nil {
		return nil, err
	}
	o, err := a.loadOrder(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if o.Account != req.account.ID {
		return nil, problem(http.StatusUnauthorized, probUnauthorized, "order %s belongs to another account", id)
	}
	return o, nil
}

func (a *acmeServer) getOrder(w http.ResponseWriter, r *http.Request, req *acmeRequest) error {
	o, err := a.ownOrder(r, req, r.PathValue("id"))
	if err != nil {
		return err
	}
	return a.orderJSON(w, r, o, http.StatusOK)
}

func (a *acmeServer) finalize(w http.ResponseWriter, r *http.Request, req *acmeRequest) error {
	o, err := a.ownOrder(r, req, r.PathValue("id"))
	if err != nil {
		return err
	}
	httpapi.SetAuditTarget(r, "acme-order:"+o.ID)
	if o.Status != "ready" {
		return problem(http.StatusForbidden, probOrderNotReady, "order %s is %s, not ready", o.ID, o.Status)
	}
	ca, err := a.mgr.CA(r.Context(), r.PathValue("ca"))
	if err != nil {
		return err
	}
	if err := acmeNeedsAllowedDomains(ca); err != nil {
		return err
	}
	var p struct {
		CSR string `json:"csr"`
	}
	if err := json.Unmarshal(req.payload, &p); err != nil {
		return problem(http.StatusBadRequest, probMalformed, "payload: %v", err)
	}
	der, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(p.CSR, "="))
	if err != nil {
		return problem(http.StatusBadRequest, probBadCSR, "csr: not base64url")
	}
	csr, err := ParseCSR(der)
	if err != nil {
		return problem(http.StatusBadRequest, probBadCSR, "%v", err)
	}
	names, err := ParseNames(csrNames(csr))
	if err != nil {
		return problem(http.StatusBadRequest, probBadCSR, "%v", err)
	}
	var want []string
	for _, id := range o.Identifiers {
		want = append(want, id.Value)
	}
	got := slices.Clone(names.DNS)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) || len(names.IPs)+len(names.Emails)+len(names.URIs) > 0 {
		return problem(http.StatusBadRequest, probBadCSR, "CSR names %v are not the order's identifiers %v", got, want)
	}
	if _, err := a.mgr.store.ExecContext(r.Context(), `UPDATE certs_acme_orders SET status = 'processing' WHERE id = ? AND status = 'ready'`, o.ID); err != nil {
		return err
	}
	c, err := a.mgr.issue(r.Context(), IssueRequest{Authority: r.PathValue("ca"),
		CSR:   string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})),
		Owner: "acme-account:" + o.Account, Notes: "ACME order " + o.ID}, SourceIssued)
	if err != nil {
		a.mgr.store.ExecContext(r.Context(), `UPDATE certs_acme_orders SET status = 'invalid', error = ? WHERE id = ?`, truncate(err.Error(), 500), o.ID)
		return err
	}
	if _, err := a.mgr.store.ExecContext(r.Context(), `UPDATE certs_acme_orders SET status = 'valid', cert_serial = ? WHERE id = ?`,
		c.Serial, o.ID); err != nil {
		return err
	}
	httpapi.SetAuditDetail(r, "issued "+c.Serial)
	o, err = a.loadOrder(r.Context(), o.ID)
	if err != nil {
		return err
	}
	return a.orderJSON(w, r, o, http.StatusOK)
}

func (a *acmeServer) getCert(w http.ResponseWriter, r *http.Request, req *acmeRequest) error {
	if err := a.needAccount(req); err != nil {
		return err
	}
	var n int
	if err := a.mgr.store.QueryRowContext(r.Context(), `SELECT COUNT(*) FROM certs_acme_orders WHERE cert_serial = ? AND account_id = ?`,
		r.PathValue("id"), req.account.ID).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return problem(http.StatusNotFound, probMalformed, "no certificate %s for this account", r.PathValue("id"))
	}
	c, err := a.mgr.getIssued(r.Context(), r.PathValue("ca"), r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := a.addNonce(w, r); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/pem-certificate-chain")
	_, err = w.Write([]byte(c.Certificate + c.Chain))
	return err
}

func (a *acmeServer) revokeCert(w http.ResponseWriter, r *http.Request, req *acmeRequest) error {
	var p struct {
		Certificate string `json:"certificate"`
		Reason      *int   `json:"reason"`
	}
	if err := json.Unmarshal(req.payload, &p); err != nil {
		return problem(http.StatusBadRequest, probMalformed, "payload: %v", err)
	}
	der, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(p.Certificate, "="))
	if err != nil {
		return problem(http.StatusBadRequest, probMalformed, "certificate: not base64url")
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return problem(http.StatusBadRequest, probMalformed, "certificate: %v", err)
	}
	c, err := a.mgr.getIssued(r.Context(), r.PathValue("ca"), SerialHex(cert))
	if err != nil || c.Fingerprint != Fingerprint(der) {
		return problem(http.StatusNotFound, probMalformed, "this server did not issue that certificate")
	}
	httpapi.SetAuditTarget(r, certTarget(c))
	allowed := false
	if req.account != nil {
		var n int
		a.mgr.store.QueryRowContext(r.Context(), `SELECT COUNT(*) FROM certs_acme_orders WHERE cert_serial = ? AND account_id = ?`,
			c.Serial, req.account.ID).Scan(&n)
		allowed = n > 0
	} else if req.jwk != nil {
		type equaler interface{ Equal(x any) bool }
		e, ok := cert.PublicKey.(equaler)
		allowed = ok && e.Equal(req.jwk.Key)
	}
	if !allowed {
		return problem(http.StatusForbidden, probUnauthorized, "neither the ordering account nor the certificate's key signed this request")
	}
	reason := "unspecified"
	if p.Reason != nil {
		reason = ReasonName(*p.Reason)
		if _, ok := reasonCodes[reason]; !ok || (*p.Reason != 0 && reason == "unspecified") {
			return problem(http.StatusBadRequest, probBadRevocationRsn, "revocation reason %d is not allowed", *p.Reason)
		}
	}
	if c.RevokedAt != nil {
		return problem(http.StatusBadRequest, probAlreadyRevoked, "certificate %s is already revoked", c.Serial)
	}
	if _, err := a.mgr.Revoke(r.Context(), c.ID, reason); err != nil {
		return err
	}
	if err := a.addNonce(w, r); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}
