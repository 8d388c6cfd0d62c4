package certs

import (
	"net/http"

	"github.com/gaffer-sre/gaffer/internal/platform/auth"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
)

// acmeAdminRoutes registers the admin API of the authorities' ACME
// servers: external account binding keys and the anonymous-accounts
// opt-out.
func (s *Service) acmeAdminRoutes(r *httpapi.Router, p string) {
	base := p + "/authorities/{name}/acme"
	r.Handle(httpapi.Route{Method: "GET", Path: base, Scope: ScopeRead, Summary: "Show an authority's ACME server settings",
		Response: ACMEServerSettings{}, Handler: s.apiACMEServer})
	r.Handle(httpapi.Route{Method: "PUT", Path: base, Scope: auth.AdminScope, Action: "certs.acme.settings",
		Summary: "Replace an authority's ACME server settings (anonymous_accounts: allow accounts without external account binding)",
		Request: ACMEServerSettings{}, Response: ACMEServerSettings{},
		Handler: s.apiSetACMEServer})
	r.Handle(httpapi.Route{Method: "GET", Path: base + "/eab-keys", Scope: ScopeRead,
		Summary:  "List an authority's ACME external account binding keys (without their secrets)",
		Response: []EABKey{}, Handler: s.apiEABKeys})
	r.Handle(httpapi.Route{Method: "POST", Path: base + "/eab-keys", Scope: auth.AdminScope, Action: "certs.eab_key.create",
		Summary: "Create an ACME external account binding key; its HMAC key is shown only in this answer",
		Request: CreateEABKeyRequest{}, Response: NewEABKey{},
		Handler: s.apiCreateEABKey})
	r.Handle(httpapi.Route{Method: "DELETE", Path: base + "/eab-keys/{id}", Scope: auth.AdminScope, Action: "certs.eab_key.revoke",
		Summary:  "Revoke an ACME external account binding key and deactivate the account it created",
		Response: EABKey{}, Handler: s.apiRevokeEABKey})
}

// apiACMEServer answers an authority's ACME server settings (GET /authorities/{name}/acme).
func (s *Service) apiACMEServer(w http.ResponseWriter, r *http.Request) error {
	st, err := s.mgr.ACMEServer(r.Context(), r.PathValue("name"))
	if err != nil {
		return apiError(err)
	}
	return httpapi.WriteJSON(w, http.StatusOK, st)
}

// apiSetACMEServer replaces an authority's ACME server settings (PUT /authorities/{name}/acme).
func (s *Service) apiSetACMEServer(w http.ResponseWriter, r *http.Request) error {
	var req ACMEServerSettings
	if err := httpapi.DecodeJSON(r, &req); err != nil {
		return err
	}
	httpapi.SetAuditTarget(r, "authority:"+r.PathValue("name"))
	if req.AnonymousAccounts {
		httpapi.SetAuditDetail(r, "anonymous ACME accounts allowed: external account binding no longer required")
	} else {
		httpapi.SetAuditDetail(r, "external account binding required")
	}
	st, err := s.mgr.SetACMEServer(r.Context(), r.PathValue("name"), req)
	if err != nil {
		return apiError(err)
	}
	return httpapi.WriteJSON(w, http.StatusOK, st)
}

// apiEABKeys lists an authority's external account binding keys, without secrets (GET .../acme/eab-keys).
func (s *Service) apiEABKeys(w http.ResponseWriter, r *http.Request) error {
	ks, err := s.mgr.EABKeys(r.Context(), r.PathValue("name"))
	if err != nil {
		return apiError(err)
	}
	return httpapi.WriteJSON(w, http.StatusOK, ks)
}

// apiCreateEABKey creates an external account binding key (POST /authorities/{name}/acme/eab-keys).
func (s *Service) apiCreateEABKey(w http.ResponseWriter, r *http.Request) error {
	var req CreateEABKeyRequest
	if err := httpapi.DecodeJSON(r, &req); err != nil {
		return err
	}
	httpapi.SetAuditTarget(r, "authority:"+r.PathValue("name"))
	k, err := s.mgr.CreateEABKey(r.Context(), r.PathValue("name"), req)
	if err != nil {
		return apiError(err)
	}
	httpapi.SetAuditTarget(r, "acme-eab:"+k.ID)
	httpapi.SetAuditDetail(r, "authority "+k.Authority)
	return httpapi.WriteJSON(w, http.StatusCreated, k)
}

// apiRevokeEABKey revokes an external account binding key and deactivates its account (DELETE .../acme/eab-keys/{id}).
func (s *Service) apiRevokeEABKey(w http.ResponseWriter, r *http.Request) error {
	httpapi.SetAuditTarget(r, "acme-eab:"+r.PathValue("id"))
	k, err := s.mgr.RevokeEABKey(r.Context(), r.PathValue("name"), r.PathValue("id"))
	if err != nil {
		return apiError(err)
	}
	if k.Account != "" {
		httpapi.SetAuditDetail(r, "deactivated acme-account:"+k.Account)
	}
	return httpapi.WriteJSON(w, http.StatusOK, k)
}
