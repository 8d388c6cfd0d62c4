package sshca

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/gaffer-sre/gaffer/internal/platform/auth"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
	"github.com/gaffer-sre/gaffer/internal/platform/ui"
)

type pageData struct {
	Error              string
	CanWrite, CanAdmin bool
	CAs                []CA
	Policies           []Policy
	EditName, EditBody string
	Certs              []Cert
	Next               string
	Revocations        []Revocation
}

// Pages registers the SSH CA's UI.
func (s *Service) Pages(sh *ui.Shell) {
	s.pages = map[string]*ui.Page{}
	for _, name := range []string{"cas", "policies", "certs", "revocations"} {
		s.pages[name] = sh.Parse(templatesFS, "templates/tabs.html", "templates/"+name+".html")
	}
	sh.Nav(ui.NavItem{Title: "SSH CA", Path: "/sshca", Scope: ScopeRead, Order: 500})
	sh.Handle(httpapi.Route{Method: "GET", Path: "/sshca", Scope: ScopeRead, Summary: "SSH CAs page",
		Handler: s.pageCAs})
	sh.Handle(httpapi.Route{Method: "POST", Path: "/sshca/cas/{name}/rotate", Scope: auth.AdminScope, Action: "sshca.ca.rotate",
		Summary: "Rotate a CA from the UI", Handler: s.pageRotate})
	sh.Handle(httpapi.Route{Method: "POST", Path: "/sshca/cas/{name}/keys/{id}/retire", Scope: auth.AdminScope,
		Action: "sshca.ca.retire", Summary: "Retire a CA key from the UI", Handler: s.pageRetire})
	sh.Handle(httpapi.Route{Method: "GET", Path: "/sshca/policies", Scope: ScopeRead, Summary: "SSH CA policies page",
		Handler: s.pagePolicies})
	sh.Handle(httpapi.Route{Method: "POST", Path: "/sshca/policies", Scope: ScopeWrite, Action: "sshca.policy.put",
		Summary: "Save a policy from the UI", Handler: s.pageSavePolicy})
	sh.Handle(httpapi.Route{Method: "POST", Path: "/sshca/policies/{name}/delete", Scope: ScopeWrite, Action: "sshca.policy.delete",
		Summary: "Delete a policy from the UI", Handler: s.pageDeletePolicy})
	sh.Handle(httpapi.Route{Method: "GET", Path: "/sshca/certs", Scope: ScopeRead, Summary: "Issued SSH certificates page",
		Handler: s.pageCerts})
	sh.Handle(httpapi.Route{Method: "GET", Path: "/sshca/revocations", Scope: ScopeRead, Summary: "SSH revocations page",
		Handler: s.pageRevocations})
	sh.Handle(httpapi.Route{Method: "POST", Path: "/sshca/revocations", Scope: ScopeWrite, Action: "sshca.certificate.revoke",
		Summary: "Revoke from the UI", Handler: s.pageRevoke})
}

// pageCAs renders the CAs page (GET /sshca).
func (s *Service) pageCAs(w http.ResponseWriter, r *http.Request) error {
	return s.renderCAs(w, r, http.StatusOK, "")
}

// pageRotate adds a signing key to a CA from the CAs page (POST /sshca/cas/{name}/rotate).
func (s *Service) pageRotate(w http.ResponseWriter, r *http.Request) error {
	httpapi.SetAuditTarget(r, "sshca-ca:"+r.PathValue("name"))
	if _, err := s.ca.Rotate(r.Context(), r.PathValue("name"), RotateRequest{}); err != nil {
		return s.renderCAs(w, r, statusOf(err), err.Error())
	}
	http.Redirect(w, r, "/sshca", http.StatusSeeOther)
	return nil
}

// pageRetire retires a CA key from the CAs page (POST /sshca/cas/{name}/keys/{id}/retire).
func (s *Service) pageRetire(w http.ResponseWriter, r *http.Request) error {
	httpapi.SetAuditTarget(r, "sshca-ca-key:"+r.PathValue("name")+"/"+r.PathValue("id"))
	if _, err := s.ca.RetireKey(r.Context(), r.PathValue("name"), r.PathValue("id")); err != nil {
		return s.renderCAs(w, r, statusOf(err), err.Error())
	}
	http.Redirect(w, r, "/sshca", http.StatusSeeOther)
	return nil
}

// statusOf is the HTTP status for an Authority error shown on a page.
func statusOf(err error) int {
	var he *httpapi.Error
	if errors.As(apiError(err), &he) {
		return he.Status
	}
	return http.StatusInternalServerError
}

func (s *Service) base(r *http.Request, msg string) pageData {
	p := auth.FromContext(r.Context())
	return pageData{Error: msg, CanWrite: p.Has(ScopeWrite), CanAdmin: p.Has(auth.AdminScope)}
}

func (s *Service) renderCAs(w http.ResponseWriter, r *http.Request, status int, msg string) error {
	d := s.base(r, msg)
	var err error
	if d.CAs, err = s.ca.ListCAs(r.Context()); err != nil {
		return err
	}
	return s.pages["cas"].Render(w, r, status, "SSH CA", d)
}

func (s *Service) renderPolicies(w http.ResponseWriter, r *http.Request, status int, msg, name, body string) error {
	d := s.base(r, msg)
	d.EditName, d.EditBody = name, body
	if body == "" {
		d.EditBody = "{\n  \"cert_type\": \"user\",\n  \"identities\": [\"*\"],\n  \"principals\": [\"{{identity}}\"],\n  \"max_validity\": \"5m\"\n}"
	}
	var err error
	if d.Policies, err = s.ca.ListPolicies(r.Context()); err != nil {
		return err
	}
	return s.pages["policies"].Render(w, r, status, "SSH CA policies", d)
}

// pagePolicies renders the policies page (GET /sshca/policies).
func (s *Service) pagePolicies(w http.ResponseWriter, r *http.Request) error {
	return s.renderPolicies(w, r, http.StatusOK, "", "", "")
}

// pageDeletePolicy deletes a policy from the policies page (POST /sshca/policies/{name}/delete).
func (s *Service) pageDeletePolicy(w http.ResponseWriter, r *http.Request) error {
	httpapi.SetAuditTarget(r, "sshca-policy:"+r.PathValue("name"))
	removed, err := s.ca.DeletePolicy(r.Context(), r.PathValue("name"))
	if err != nil {
		return s.renderPolicies(w, r, statusOf(err), err.Error(), "", "")
	}
	httpapi.SetAuditDetail(r, policyDiff(&removed, nil))
	http.Redirect(w, r, "/sshca/policies", http.StatusSeeOther)
	return nil
}

// pageSavePolicy saves a policy from the policies page (POST /sshca/policies).
func (s *Service) pageSavePolicy(w http.ResponseWriter, r *http.Request) error {
	name, body := strings.TrimSpace(r.FormValue("name")), r.FormValue("body")
	httpapi.SetAuditTarget(r, "sshca-policy:"+name)
	var p Policy
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		httpapi.SetAuditDetail(r, "invalid JSON")
		return s.renderPolicies(w, r, http.StatusBadRequest, "policy: "+err.Error(), name, body)
	}
	p.Name = name
	ch, err := s.ca.PutPolicyAs(r.Context(), p, editorOf(r))
	if err != nil {
		httpapi.SetAuditDetail(r, err.Error())
		return s.renderPolicies(w, r, statusOf(err), err.Error(), name, body)
	}
	httpapi.SetAuditDetail(r, ch.Diff)
	http.Redirect(w, r, "/sshca/policies", http.StatusSeeOther)
	return nil
}

// pageCerts renders the issued certificates page (GET /sshca/certs).
func (s *Service) pageCerts(w http.ResponseWriter, r *http.Request) error {
	d := s.base(r, "")
	page, err := s.certPage(r)
	if err != nil {
		return err
	}
	d.Certs, d.Next = page.Items, page.NextCursor
	return s.pages["certs"].Render(w, r, http.StatusOK, "SSH certificates", d)
}

func (s *Service) renderRevocations(w http.ResponseWriter, r *http.Request, status int, msg string) error {
	d := s.base(r, msg)
	var err error
	if d.Revocations, err = s.ca.ListRevocations(r.Context()); err != nil {
		return err
	}
	return s.pages["revocations"].Render(w, r, status, "SSH revocations", d)
}

// pageRevocations renders the revocations page (GET /sshca/revocations).
func (s *Service) pageRevocations(w http.ResponseWriter, r *http.Request) error {
	return s.renderRevocations(w, r, http.StatusOK, "")
}

// pageRevoke revokes from the revocations page (POST /sshca/revocations).
func (s *Service) pageRevoke(w http.ResponseWriter, r *http.Request) error {
	req := RevokeRequest{Serial: strings.TrimSpace(r.FormValue("serial")), KeyID: r.FormValue("key_id"),
		PublicKey: strings.TrimSpace(r.FormValue("public_key")), Reason: r.FormValue("reason")}
	rev, err := s.ca.Revoke(r.Context(), req, auth.FromContext(r.Context()).Actor())
	if err != nil {
		httpapi.SetAuditDetail(r, err.Error())
		return s.renderRevocations(w, r, statusOf(err), err.Error())
	}
	httpapi.SetAuditTarget(r, "sshca-revocation:"+strconv.FormatInt(rev.ID, 10))
	httpapi.SetAuditDetail(r, rev.Kind+" "+describeRevocation(rev))
	http.Redirect(w, r, "/sshca/revocations", http.StatusSeeOther)
	return nil
}
