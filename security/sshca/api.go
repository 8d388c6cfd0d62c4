package sshca

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	"github.com/gaffer-sre/gaffer/internal/platform/audit"
	"github.com/gaffer-sre/gaffer/internal/platform/auth"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
	"github.com/gaffer-sre/gaffer/security/sshca/sshcaapi"
)

// Scopes of the SSH CA. CA lifecycle (create, rotate, retire a key)
// changes what every server trusts and needs the admin scope.
const (
	ScopeRead  = sshcaapi.ScopeRead
	ScopeWrite = sshcaapi.ScopeWrite
	ScopeSign  = sshcaapi.ScopeSign
)

// TrustedKeysResponse answers GET /api/v1/sshca/ca-pubkey.
type TrustedKeysResponse struct {
	// Keys are public key lines for sshd's TrustedUserCAKeys (user CAs) or
	// known_hosts' @cert-authority (host CAs).
	Keys []string `json:"keys"`
}

// Routes registers the SSH CA's API.
func (s *Service) Routes(r *httpapi.Router) {
	const p = "/api/v1/sshca"
	r.Handle(httpapi.Route{Method: "POST", Path: p + "/sign", Scope: ScopeSign, Action: "sshca.certificate.sign",
		Summary: "Sign an SSH certificate for the caller's identity, as its policy allows",
		Request: SignRequest{}, Response: Cert{}, Handler: s.apiSign})
	r.Handle(httpapi.Route{Method: "GET", Path: p + "/ca-pubkey", Public: true,
		Summary: "Public keys servers should trust (TrustedUserCAKeys, @cert-authority); public like any CA certificate",
		Query: []httpapi.Param{{Name: "type", Description: "user or host"}, {Name: "ca", Description: "one CA by name"},
			{Name: "format", Description: "json (default) or text"},
			{Name: "hosts", Description: "host pattern of the @cert-authority lines (text format, host CAs; default *)"}},
		Response: TrustedKeysResponse{}, Handler: s.apiCAPubkey})
	r.Handle(httpapi.Route{Method: "GET", Path: p + "/krl", Public: true,
		Summary: "The OpenSSH key revocation list (for sshd's RevokedKeys; binary)", Handler: s.apiKRL})
	r.Handle(httpapi.Route{Method: "GET", Path: p + "/revoked-keys", Public: true,
		Summary: "Revoked public keys as a plain text file (coarser than the KRL)", Handler: s.apiRevokedKeys})

	r.Handle(httpapi.Route{Method: "GET", Path: p + "/cas", Scope: ScopeRead, Summary: "List CAs and their public keys",
		Response: httpapi.Page[CA]{}, Handler: s.apiListCAs})
	r.Handle(httpapi.Route{Method: "POST", Path: p + "/cas", Scope: auth.AdminScope, Action: "sshca.ca.create",
		Summary: "Create a CA with a new key", Request: CreateCARequest{}, Response: CA{}, Handler: s.apiCreateCA})
	r.Handle(httpapi.Route{Method: "GET", Path: p + "/cas/{name}", Scope: ScopeRead, Summary: "One CA",
		Response: CA{}, Handler: s.apiGetCA})
	r.Handle(httpapi.Route{Method: "POST", Path: p + "/cas/{name}/rotate", Scope: auth.AdminScope, Action: "sshca.ca.rotate",
		Summary: "Add a new signing key to a CA; the old one stays trusted until retired",
		Request: RotateRequest{}, Response: CA{}, Handler: s.apiRotate})
	r.Handle(httpapi.Route{Method: "POST", Path: p + "/cas/{name}/keys/{id}/retire", Scope: auth.AdminScope,
		Action: "sshca.ca.retire", Summary: "Stop trusting an old CA key", Response: CA{}, Handler: s.apiRetire})
	r.Handle(httpapi.Route{Method: "POST", Path: p + "/kek/rotate", Scope: auth.AdminScope, Action: "sshca.kek.rotate",
		Summary: "Rotate the key-encryption key and re-seal every CA private key", Response: KEKRotateResponse{},
		Handler: s.apiRotateKEK})

	r.Handle(httpapi.Route{Method: "GET", Path: p + "/policies", Scope: ScopeRead, Summary: "List signing policies",
		Response: httpapi.Page[Policy]{}, Handler: s.apiListPolicies})
	r.Handle(httpapi.Route{Method: "GET", Path: p + "/policies/{name}", Scope: ScopeRead, Summary: "One signing policy",
		Response: Policy{}, Handler: s.apiGetPolicy})
	r.Handle(httpapi.Route{Method: "PUT", Path: p + "/policies/{name}", Scope: ScopeWrite, Action: "sshca.policy.put",
		Summary: "Create or replace a signing policy (fields left out get their defaults); a policy naming principals " +
			"beyond {{identity}}, leaving a blocked user name off its blocklist or above the validity ceiling needs admin",
		Request: Policy{}, Response: Policy{}, Handler: s.apiPutPolicy})
	r.Handle(httpapi.Route{Method: "DELETE", Path: p + "/policies/{name}", Scope: ScopeWrite, Action: "sshca.policy.delete",
		Summary: "Delete a signing policy", Handler: s.apiDeletePolicy})

	r.Handle(httpapi.Route{Method: "GET", Path: p + "/certs", Scope: ScopeRead, Summary: "Issued certificates, newest first",
		Query: []httpapi.Param{{Name: "q", Description: "substring of identity, key ID, principal or fingerprint; or a serial"},
			{Name: "identity"}, {Name: "ca"}, {Name: "status", Description: "valid, expired or revoked"}, {Name: "limit"}, {Name: "cursor"}},
		Response: httpapi.Page[Cert]{}, Handler: s.apiListCerts})
	r.Handle(httpapi.Route{Method: "GET", Path: p + "/certs/{serial}", Scope: ScopeRead, Summary: "One issued certificate",
		Response: Cert{}, Handler: s.apiGetCert})
	r.Handle(httpapi.Route{Method: "POST", Path: p + "/revocations", Scope: ScopeWrite, Action: "sshca.certificate.revoke",
		Summary: "Revoke certificates by serial or key ID, or a public key", Request: RevokeRequest{},
		Response: Revocation{}, Handler: s.apiRevoke})
	r.Handle(httpapi.Route{Method: "GET", Path: p + "/revocations", Scope: ScopeRead, Summary: "Revocations, newest first",
		Response: httpapi.Page[Revocation]{}, Handler: s.apiListRevocations})
}

// apiError turns the Authority's errors into API errors.
func apiError(err error) error {
	var ref *Refusal
	switch {
	case errors.As(err, &ref):
		return httpapi.Errorf(ref.Status, ref.Code, "%s", ref.Reason)
	case errors.Is(err, ErrNotFound):
		return httpapi.NotFound("%v", err)
	case errors.Is(err, ErrExists), errors.Is(err, ErrConflict):
		return httpapi.Conflict("%v", err)
	}
	return err
}

// clientIP is the address the request came from (no proxy headers are
// trusted).
func clientIP(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, _ := netip.ParseAddr(host)
	return a.Unmap()
}

// record writes an explicit audit entry for an issuance or refusal, beside
// the router's entry for the call.
func (s *Service) record(ctx context.Context, r *http.Request, action, target, outcome string, status int, detail string) {
	if s.audit == nil {
		return
	}
	err := s.audit.Record(ctx, audit.Entry{Actor: auth.FromContext(ctx).Actor(), Action: action, Target: target,
		RequestID: httpapi.RequestID(ctx), Outcome: outcome, Status: status, RemoteAddr: r.RemoteAddr, Detail: detail})
	if err != nil {
		s.deps.Log.Error("sshca: audit record failed", "action", action, "error", err)
	}
}

// caller works out who is asking: the token's identity, or the identity
// an OIDC ID token proves.
func (s *Service) caller(ctx context.Context, r *http.Request, idToken string) (Caller, error) {
	p := auth.FromContext(ctx)
	c := Caller{Identity: p.Identity, RequestID: httpapi.RequestID(ctx), ClientIP: clientIP(r)}
	if idToken == "" {
		if s.oidcRequired {
			return c, &Refusal{Status: http.StatusUnauthorized, Code: "unauthenticated",
				Reason: "id_token: this server requires an OIDC ID token with every signing request"}
		}
		return c, nil
	}
	if s.oidc == nil {
		return c, errNoOIDC
	}
	id, groups, err := s.oidc.Verify(ctx, idToken)
	if err != nil {
		return c, err
	}
	if c.Identity != "" && c.Identity != id {
		return c, refuse("id_token: it names %q but this token is bound to %q", id, c.Identity)
	}
	c.Identity, c.Groups = id, groups
	return c, nil
}

// apiSign signs a certificate for the caller as its policy allows (POST /sign).
func (s *Service) apiSign(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	var body SignRequest
	err := httpapi.DecodeJSON(r, &body)
	var caller Caller
	var cert *Cert
	if err == nil {
		caller, err = s.caller(ctx, r, body.IDToken)
	}
	if err == nil {
		var req *Request
		if req, err = ParseSignRequest(body); err == nil {
			cert, err = s.ca.Sign(ctx, caller, req)
		}
	}
	if err != nil {
		e := apiError(err)
		var he *httpapi.Error
		if errors.As(e, &he) {
			outcome := audit.OutcomeFailure
			if he.Status == http.StatusForbidden || he.Status == http.StatusUnauthorized {
				outcome = audit.OutcomeDenied
			}
			s.record(ctx, r, "sshca.certificate.refused", "sshca-identity:"+caller.Identity, outcome, he.Status, he.Message)
		}
		return e
	}
	target := "sshca-cert:" + strconv.FormatUint(cert.Serial, 10)
	detail := "principals=" + strings.Join(cert.Principals, ",") + " " + cert.KeyID
	s.record(ctx, r, "sshca.certificate.issued", target, audit.OutcomeSuccess, http.StatusCreated, detail)
	httpapi.SetAuditTarget(r, target)
	httpapi.SetAuditDetail(r, detail)
	return httpapi.WriteJSON(w, http.StatusCreated, cert)
}

// apiCAPubkey answers the CA public keys servers should trust, as JSON or text (GET /ca-pubkey).
func (s *Service) apiCAPubkey(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	certType, name := q.Get("type"), q.Get("ca")
	if certType != "" && certType != UserCert && certType != HostCert {
		return httpapi.BadRequest("type: %q is not user or host", certType)
	}
	keys, err := s.ca.TrustedKeys(r.Context(), certType, name)
	if err != nil {
		return apiError(err)
	}
	switch q.Get("format") {
	case "", "json":
		return httpapi.WriteJSON(w, http.StatusOK, TrustedKeysResponse{Keys: keys})
	case "text":
		hosts := q.Get("hosts")
		if hosts == "" {
			hosts = "*"
		}
		if strings.ContainsAny(hosts, " \t\r\n#") {
			return httpapi.BadRequest("hosts: %q must be a comma-separated pattern list without spaces", hosts)
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		for _, k := range keys {
			if certType == HostCert {
				k = "@cert-authority " + hosts + " " + k
			}
			w.Write([]byte(k + "\n"))
		}
		return nil
	}
	return httpapi.BadRequest("format: %q is not json or text", q.Get("format"))
}

// apiKRL answers the OpenSSH key revocation list (GET /krl).
func (s *Service) apiKRL(w http.ResponseWriter, r *http.Request) error {
	data, err := s.ca.KRL(r.Context())
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="gaffer.krl"`)
	_, err = w.Write(data)
	return err
}

// apiRevokedKeys answers revoked public keys as a text file (GET /revoked-keys).
func (s *Service) apiRevokedKeys(w http.ResponseWriter, r *http.Request) error {
	text, err := s.ca.RevokedKeysFile(r.Context())
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, err = w.Write([]byte(text))
	return err
}

// apiListCAs lists the CAs and their public keys (GET /cas).
func (s *Service) apiListCAs(w http.ResponseWriter, r *http.Request) error {
	cas, err := s.ca.ListCAs(r.Context())
	if err != nil {
		return apiError(err)
	}
	return httpapi.WriteJSON(w, http.StatusOK, httpapi.Page[CA]{Items: cas})
}

// apiGetCA answers one CA (GET /cas/{name}).
func (s *Service) apiGetCA(w http.ResponseWriter, r *http.Request) error {
	ca, err := s.ca.GetCA(r.Context(), r.PathValue("name"))
	if err != nil {
		return apiError(err)
	}
	return httpapi.WriteJSON(w, http.StatusOK, ca)
}

// apiCreateCA creates a CA with a new key (POST /cas).
func (s *Service) apiCreateCA(w http.ResponseWriter, r *http.Request) error {
	var req CreateCARequest
	if err := httpapi.DecodeJSON(r, &req); err != nil {
		return err
	}
	httpapi.SetAuditTarget(r, "sshca-ca:"+req.Name)
	ca, err := s.ca.CreateCA(r.Context(), req, auth.FromContext(r.Context()).Actor())
	if err != nil {
		return apiError(err)
	}
	return httpapi.WriteJSON(w, http.StatusCreated, ca)
}

// apiRotate adds a new signing key to a CA (POST /cas/{name}/rotate).
func (s *Service) apiRotate(w http.ResponseWriter, r *http.Request) error {
	var req RotateRequest
	if r.ContentLength != 0 {
		if err := httpapi.DecodeJSON(r, &req); err != nil {
			return err
		}
	}
	name := r.PathValue("name")
	httpapi.SetAuditTarget(r, "sshca-ca:"+name)
	ca, err := s.ca.Rotate(r.Context(), name, req)
	if err != nil {
		return apiError(err)
	}
	httpapi.SetAuditDetail(r, "new active key "+activeKeyID(ca))
	return httpapi.WriteJSON(w, http.StatusOK, ca)
}

func activeKeyID(ca CA) string {
	for _, k := range ca.Keys {
		if k.State == KeyActive {
			return k.ID
		}
	}
	return ""
}

// apiRetire stops trusting an old CA key (POST /cas/{name}/keys/{id}/retire).
func (s *Service) apiRetire(w http.ResponseWriter, r *http.Request) error {
	name, id := r.PathValue("name"), r.PathValue("id")
	httpapi.SetAuditTarget(r, "sshca-ca-key:"+name+"/"+id)
	ca, err := s.ca.RetireKey(r.Context(), name, id)
	if err != nil {
		return apiError(err)
	}
	return httpapi.WriteJSON(w, http.StatusOK, ca)
}

// apiListPolicies lists the signing policies (GET /policies).
func (s *Service) apiListPolicies(w http.ResponseWriter, r *http.Request) error {
	ps, err := s.ca.ListPolicies(r.Context())
	if err != nil {
		return apiError(err)
	}
	return httpapi.WriteJSON(w, http.StatusOK, httpapi.Page[Policy]{Items: ps})
}

// apiGetPolicy answers one signing policy (GET /policies/{name}).
func (s *Service) apiGetPolicy(w http.ResponseWriter, r *http.Request) error {
	pol, err := s.ca.GetPolicy(r.Context(), r.PathValue("name"))
	if err != nil {
		return apiError(err)
	}
	return httpapi.WriteJSON(w, http.StatusOK, pol)
}

// apiPutPolicy creates or replaces a signing policy (PUT /policies/{name}).
func (s *Service) apiPutPolicy(w http.ResponseWriter, r *http.Request) error {
	var p Policy
	if err := httpapi.DecodeJSON(r, &p); err != nil {
		return err
	}
	name := r.PathValue("name")
	if p.Name != "" && p.Name != name {
		return httpapi.BadRequest("name: %q differs from the path's %q", p.Name, name)
	}
	p.Name = name
	httpapi.SetAuditTarget(r, "sshca-policy:"+name)
	ch, err := s.ca.PutPolicyAs(r.Context(), p, editorOf(r))
	if err != nil {
		return apiError(err)
	}
	httpapi.SetAuditDetail(r, ch.Diff)
	return httpapi.WriteJSON(w, http.StatusOK, ch.After)
}

// editorOf is the caller of a policy change.
func editorOf(r *http.Request) Editor {
	p := auth.FromContext(r.Context())
	return Editor{Actor: p.Actor(), Admin: p.Has(auth.AdminScope)}
}

// apiDeletePolicy deletes a signing policy (DELETE /policies/{name}).
func (s *Service) apiDeletePolicy(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	httpapi.SetAuditTarget(r, "sshca-policy:"+name)
	removed, err := s.ca.DeletePolicy(r.Context(), name)
	if err != nil {
		return apiError(err)
	}
	httpapi.SetAuditDetail(r, policyDiff(&removed, nil))
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// certPage answers a certificate search: ?q=, identity, ca, status,
// limit and cursor.
func (s *Service) certPage(r *http.Request) (httpapi.Page[Cert], error) {
	q := r.URL.Query()
	f := CertFilter{Query: strings.TrimSpace(q.Get("q")), Identity: q.Get("identity"), CA: q.Get("ca"), Status: q.Get("status")}
	var page httpapi.Page[Cert]
	limit, err := httpapi.Limit(r, 100, 1000)
	if err != nil {
		return page, err
	}
	f.Limit = limit
	if _, err := httpapi.DecodeCursor(r, &f.Before); err != nil {
		return page, err
	}
	certs, next, err := s.ca.ListCerts(r.Context(), f)
	if err != nil {
		return page, apiError(err)
	}
	page.Items = certs
	if next > 0 {
		page.NextCursor = httpapi.EncodeCursor(next)
	}
	return page, nil
}

// apiListCerts lists issued certificates, newest first (GET /certs).
func (s *Service) apiListCerts(w http.ResponseWriter, r *http.Request) error {
	page, err := s.certPage(r)
	if err != nil {
		return err
	}
	return httpapi.WriteJSON(w, http.StatusOK, page)
}

// apiGetCert answers one issued certificate (GET /certs/{serial}).
func (s *Service) apiGetCert(w http.ResponseWriter, r *http.Request) error {
	serial, err := strconv.ParseUint(r.PathValue("serial"), 10, 64)
	if err != nil {
		return httpapi.BadRequest("serial: want a decimal number, got %q", r.PathValue("serial"))
	}
	c, err := s.ca.GetCert(r.Context(), serial)
	if err != nil {
		return apiError(err)
	}
	return httpapi.WriteJSON(w, http.StatusOK, c)
}

// apiRevoke revokes certificates by serial or key ID, or a public key (POST /revocations).
func (s *Service) apiRevoke(w http.ResponseWriter, r *http.Request) error {
	var req RevokeRequest
	if err := httpapi.DecodeJSON(r, &req); err != nil {
		return err
	}
	rev, err := s.ca.Revoke(r.Context(), req, auth.FromContext(r.Context()).Actor())
	if err != nil {
		return apiError(err)
	}
	httpapi.SetAuditTarget(r, "sshca-revocation:"+strconv.FormatInt(rev.ID, 10))
	httpapi.SetAuditDetail(r, rev.Kind+" "+describeRevocation(rev)+" "+rev.Reason)
	return httpapi.WriteJSON(w, http.StatusCreated, rev)
}

// apiListRevocations lists revocations, newest first (GET /revocations).
func (s *Service) apiListRevocations(w http.ResponseWriter, r *http.Request) error {
	revs, err := s.ca.ListRevocations(r.Context())
	if err != nil {
		return apiError(err)
	}
	return httpapi.WriteJSON(w, http.StatusOK, httpapi.Page[Revocation]{Items: revs})
}
