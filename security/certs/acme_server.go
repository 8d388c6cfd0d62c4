package certs

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
)

// The ACME server (RFC 8555) in front of each internal issuing authority:
// its directory is /api/v1/certs/acme/{authority}/directory. Clients
// authenticate with their account keys (JWS), not with Gaffer tokens, so
// its routes are public; every state change is audited under the account.

// ACME problem types (RFC 8555 section 6.7).
const (
	acmeErr              = "urn:ietf:params:acme:error:"
	probMalformed        = acmeErr + "malformed"
	probBadNonce         = acmeErr + "badNonce"
	probUnauthorized     = acmeErr + "unauthorized"
	probAccountNotExist  = acmeErr + "accountDoesNotExist"
	probRejectedID       = acmeErr + "rejectedIdentifier"
	probOrderNotReady    = acmeErr + "orderNotReady"
	probBadCSR           = acmeErr + "badCSR"
	probServerInternal   = acmeErr + "serverInternal"
	probIncorrectResp    = acmeErr + "incorrectResponse"
	probConnection       = acmeErr + "connection"
	probBadSigAlg        = acmeErr + "badSignatureAlgorithm"
	probUnsupportedID    = acmeErr + "unsupportedIdentifier"
	probAlreadyRevoked   = acmeErr + "alreadyRevoked"
	probBadRevocationRsn = acmeErr + "badRevocationReason"
)

// acmeProblem is an RFC 7807 problem document.
type acmeProblem struct {
	Type   string `json:"type"`
	Detail string `json:"detail"`
	Status int    `json:"status"`
}

func (p *acmeProblem) Error() string { return p.Detail }

func problem(status int, typ, format string, args ...any) *acmeProblem {
	return &acmeProblem{Type: typ, Detail: fmt.Sprintf(format, args...), Status: status}
}

// Lifetimes of ACME objects.
const (
	acmeNonceTTL = 30 * time.Minute
	acmeOrderTTL = 24 * time.Hour
)

var acmeAlgs = []jose.SignatureAlgorithm{jose.ES256, jose.ES384, jose.ES512, jose.RS256, jose.EdDSA, jose.PS256}

type acmeServer struct {
	mgr      *Manager
	settings *Settings
	// prefix is the routes' path prefix.
	prefix string
	// validate checks a challenge; tests may replace it.
	validator *acmeValidator
}

func newACMEServer(m *Manager, s *Settings) *acmeServer {
	return &acmeServer{mgr: m, settings: s, validator: newACMEValidator(s)}
}

// acmeRequest is a verified JWS POST.
type acmeRequest struct {
	payload []byte
	// jwk is the signing key; account is set when it is a registered
	// account's (kid) request.
	jwk     *jose.JSONWebKey
	account *acmeAccount
	url     string
}

func (a *acmeServer) base(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	return scheme + "://" + r.Host + a.prefix + "/" + r.PathValue("ca")
}

func (a *acmeServer) routes(r *httpapi.Router, prefix string) {
	a.prefix = prefix
	const why = "; public: ACME clients authenticate with their account keys (JWS), not Gaffer tokens"
	p := prefix + "/{ca}"
	r.Handle(httpapi.Route{Method: "GET", Path: p + "/directory", Public: true, Summary: "ACME directory (RFC 8555)" + why,
		Handler: a.directory})
	r.Handle(httpapi.Route{Method: "GET", Path: p + "/new-nonce", Public: true, Summary: "ACME new nonce (GET and HEAD)" + why,
		Handler: a.newNonce})
	r.Handle(httpapi.Route{Method: "POST", Path: p + "/new-account", Public: true, Action: "certs.acme.new_account",
		Summary: "ACME new account" + why, Handler: a.verified(a.newAccount)})
	r.Handle(httpapi.Route{Method: "POST", Path: p + "/account/{id}", Public: true, Action: "certs.acme.account",
		Summary: "ACME account (update, deactivate, POST-as-GET)" + why, Handler: a.verified(a.accountUpdate)})
	r.Handle(httpapi.Route{Method: "POST", Path: p + "/account/{id}/orders", Public: true, Unaudited: true, Action: "certs.acme.account",
		Summary: "ACME an account's orders (POST-as-GET)" + why, Handler: a.verified(a.accountOrders)})
	r.Handle(httpapi.Route{Method: "POST", Path: p + "/new-order", Public: true, Action: "certs.acme.new_order",
		Summary: "ACME new order" + why, Handler: a.verified(a.newOrder)})
	r.Handle(httpapi.Route{Method: "POST", Path: p + "/order/{id}", Public: true, Unaudited: true, Action: "certs.acme.order",
		Summary: "ACME order (POST-as-GET)" + why, Handler: a.verified(a.getOrder)})
	r.Handle(httpapi.Route{Method: "POST", Path: p + "/order/{id}/finalize", Public: true, Action: "certs.acme.order",
		Summary: "ACME finalize an order with a CSR" + why, Handler: a.verified(a.finalize)})
	r.Handle(httpapi.Route{Method: "POST", Path: p + "/authz/{id}", Public: true, Unaudited: true, Action: "certs.acme.authz",
		Summary: "ACME authorization (POST-as-GET, or deactivate)" + why, Handler: a.verified(a.getAuthz)})
	r.Handle(httpapi.Route{Method: "POST", Path: p + "/chall/{id}", Public: true, Action: "certs.acme.chall",
		Summary: "ACME respond to a challenge" + why, Handler: a.verified(a.respondChallenge)})
	r.Handle(httpapi.Route{Method: "POST", Path: p + "/cert/{id}", Public: true, Unaudited: true, Action: "certs.acme.cert",
		Summary: "ACME certificate download (POST-as-GET)" + why, Handler: a.verified(a.getCert)})
	r.Handle(httpapi.Route{Method: "POST", Path: p + "/revoke-cert", Public: true, Action: "certs.acme.revoke_cert",
		Summary: "ACME revoke a certificate" + why, Handler: a.verified(a.revokeCert)})
	r.Handle(httpapi.Route{Method: "POST", Path: p + "/key-change", Public: true, Action: "certs.acme.key_change",
		Summary: "ACME account key roll-over" + why, Handler: a.verified(a.keyChange)})
}

func (a *acmeServer) directory(w http.ResponseWriter, r *http.Request) error {
	settings, err := a.mgr.ACMEServer(r.Context(), r.PathValue("ca"))
	if err != nil {
		return apiError(err)
	}
	b := a.base(r)
	return httpapi.WriteJSON(w, http.StatusOK, map[string]any{
		"newNonce": b + "/new-nonce", "newAccount": b + "/new-account", "newOrder": b + "/new-order",
		"revokeCert": b + "/revoke-cert", "keyChange": b + "/key-change",
		"meta": map[string]any{"externalAccountRequired": !settings.AnonymousAccounts, "website": "https://github.com/gaffer-sre/gaffer"},
	})
}

func (a *acmeServer) newNonce(w http.ResponseWriter, r *http.Request) error {
	if err := a.addNonce(w, r); err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
	} else {
		w.WriteHeader(http.StatusNoContent)
	}
	return nil
}

func randomID(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (a *acmeServer) addNonce(w http.ResponseWriter, r *http.Request) error {
	n := randomID(18)
	now := a.mgr.now()
	if _, err := a.mgr.store.ExecContext(r.Context(), `INSERT INTO certs_acme_nonces (nonce, expires_at) VALUES (?, ?)`,
		n, now.Add(acmeNonceTTL).UnixMilli()); err != nil {
		return fmt.Errorf("acme: store nonce: %w", err)
	}
	if n[0] < 'C' { // now and then, drop expired nonces
		a.mgr.store.ExecContext(r.Context(), `DELETE FROM certs_acme_nonces WHERE expires_at < ?`, now.UnixMilli())
	}
	w.Header().Set("Replay-Nonce", n)
	w.Header().Set("Link", "<"+a.base(r)+"/directory>;rel=\"index\"")
	return nil
}

func (a *acmeServer) useNonce(ctx context.Context, n string) bool {
	res, err := a.mgr.store.ExecContext(ctx, `DELETE FROM certs_acme_nonces WHERE nonce = ? AND expires_at >= ?`,
		n, a.mgr.now().UnixMilli())
	if err != nil {
		return false
	}
	k, _ := res.RowsAffected()
	return k == 1
}

// writeProblem sends an ACME problem document with a fresh nonce.
func (a *acmeServer) writeProblem(w http.ResponseWriter, r *http.Request, p *acmeProblem) error {
	a.addNonce(w, r)
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.Status)
	return json.NewEncoder(w).Encode(p)
}

// verified checks the JWS of an ACME POST (signature, nonce, URL, key or
// account) before calling h; problems become problem documents.
func (a *acmeServer) verified(h func(w http.ResponseWriter, r *http.Request, req *acmeRequest) error) httpapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		req, err := a.verify(r)
		if err == nil {
			if req.account != nil {
				httpapi.SetAuditActor(r, "acme-account:"+req.account.ID)
			}
			err = h(w, r, req)
		}
		if err == nil {
			return nil
		}
		var p *acmeProblem
		if !errors.As(err, &p) {
			var pe *PolicyError
			var ie *InputError
			var le *LintError
			switch {
			case errors.As(err, &pe):
				p = problem(http.StatusForbidden, probRejectedID, "%s", pe.Reason)
			case errors.As(err, &ie):
				p = problem(http.StatusBadRequest, probMalformed, "%s", ie.Reason)
			case errors.As(err, &le):
				p = problem(http.StatusBadRequest, probBadCSR, "%s", le.Error())
			case errors.Is(err, ErrNotFound):
				p = problem(http.StatusNotFound, probMalformed, "%v", err)
			default:
				a.mgr.log.Error("acme: request failed", "path", r.URL.Path, "error", err)
				p = problem(http.StatusInternalServerError, probServerInternal, "internal error")
			}
		}
		httpapi.SetAuditDetail(r, p.Type+": "+p.Detail)
		return a.writeProblem(w, r, p)
	}
}

func (a *acmeServer) verify(r *http.Request) (*acmeRequest, error) {
	if ct := r.Header.Get("Content-Type"); ct != "application/jose+json" {
		return nil, problem(http.StatusUnsupportedMediaType, probMalformed, "Content-Type must be application/jose+json, not %q", ct)
	}
	body, err := readLimited(r, 256<<10)
	if err != nil {
		return nil, problem(http.StatusBadRequest, probMalformed, "%v", err)
	}
	jws, err := jose.ParseSigned(string(body), acmeAlgs)
	if err != nil {
		if strings.Contains(err.Error(), "algorithm") {
			return nil, problem(http.StatusBadRequest, probBadSigAlg, "JWS: %v", err)
		}
		return nil, problem(http.StatusBadRequest, probMalformed, "JWS: %v", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, problem(http.StatusBadRequest, probMalformed, "JWS: want exactly one signature")
	}
	hdr := jws.Signatures[0].Protected
	url, _ := hdr.ExtraHeaders["url"].(string)
	want := a.base(r) + strings.TrimPrefix(r.URL.Path, a.prefix+"/"+r.PathValue("ca"))
	if url != want {
		return nil, problem(http.StatusUnauthorized, probUnauthorized, "JWS url %q is not the request URL %q", url, want)
	}
	if hdr.Nonce == "" || !a.useNonce(r.Context(), hdr.Nonce) {
		return nil, problem(http.StatusBadRequest, probBadNonce, "JWS nonce is missing, unknown, used or expired")
	}
	req := &acmeRequest{url: url}
	switch {
	case hdr.JSONWebKey != nil && hdr.KeyID != "":
		return nil, problem(http.StatusBadRequest, probMalformed, "JWS has both jwk and kid")
	case hdr.JSONWebKey != nil:
		if !hdr.JSONWebKey.Valid() || !hdr.JSONWebKey.IsPublic() {
			return nil, problem(http.StatusBadRequest, probMalformed, "JWS jwk is not a valid public key")
		}
		req.jwk = hdr.JSONWebKey
	case hdr.KeyID != "":
		id := strings.TrimPrefix(hdr.KeyID, a.base(r)+"/account/")
		acct, err := a.account(r.Context(), id)
		if err != nil {
			return nil, problem(http.StatusBadRequest, probAccountNotExist, "account %q does not exist", hdr.KeyID)
		}
		if acct.Authority != r.PathValue("ca") {
			return nil, problem(http.StatusUnauthorized, probUnauthorized, "account %s is not registered with authority %s", acct.ID, r.PathValue("ca"))
		}
		if acct.Status != "valid" {
			return nil, problem(http.StatusUnauthorized, probUnauthorized, "account %s is %s", acct.ID, acct.Status)
		}
		req.account, req.jwk = acct, acct.key
	default:
		return nil, problem(http.StatusBadRequest, probMalformed, "JWS has neither jwk nor kid")
	}
	payload, err := jws.Verify(req.jwk)
	if err != nil {
		return nil, problem(http.StatusUnauthorized, probMalformed, "JWS signature does not verify")
	}
	req.payload = payload
	return req, nil
}
