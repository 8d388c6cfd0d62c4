package certs

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/auth"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
	"github.com/gaffer-sre/gaffer/internal/platform/seal"
)

// apiError maps the manager's errors to HTTP answers that say why.
func apiError(err error) error {
	var (
		pe *PolicyError
		le *LintError
		ie *InputError
		he *httpapi.Error
	)
	switch {
	case err == nil:
		return nil
	case errors.As(err, &he):
		return he
	case errors.As(err, &ie):
		return httpapi.BadRequest("%s", ie.Reason)
	case errors.As(err, &pe):
		return httpapi.Errorf(http.StatusUnprocessableEntity, "policy", "%s", pe.Reason)
	case errors.As(err, &le):
		return httpapi.Errorf(http.StatusUnprocessableEntity, "lint", "%s", le.Error())
	case errors.Is(err, ErrNotFound):
		return httpapi.NotFound("%v", err)
	case errors.Is(err, ErrAmbiguous):
		return httpapi.Errorf(http.StatusConflict, "ambiguous", "%v", err)
	case errors.Is(err, ErrConflict):
		return httpapi.Conflict("%v", err)
	case errors.Is(err, ErrOffline):
		return httpapi.Errorf(http.StatusConflict, "offline", "%v", err)
	case errors.Is(err, seal.ErrNotManaged):
		return httpapi.Errorf(http.StatusConflict, "kek_not_managed", "%v", err)
	}
	return err
}

// ListResponse is a page of certificates.
type ListResponse = httpapi.Page[Certificate]

// RevokeRequest revokes one certificate.
type RevokeRequest struct {
	Reason string `json:"reason,omitempty"`
}

// PolicyRequest replaces an authority's policy.
type PolicyRequest = Policy

// OnlineRequest gives an offline authority its key back.
type OnlineRequest struct {
	Key string `json:"key"`
}

// KEKRotateResponse reports a key-encryption key rotation.
type KEKRotateResponse struct {
	KEKID     string `json:"kek_id"`
	Rewrapped int    `json:"rewrapped"`
}

// Routes registers the certificate manager's API.
func (s *Service) Routes(r *httpapi.Router) {
	const p = "/api/v1/certs"
	r.Handle(httpapi.Route{Method: "GET", Path: p + "/authorities", Scope: ScopeRead, Summary: "List authorities",
		Response: []Authority{}, Handler: s.apiListAuthorities})
	r.Handle(httpapi.Route{Method: "POST", Path: p + "/authorities", Scope: auth.AdminScope, Action: "certs.authority.create",
		Summary: "Create a root, intermediate or ACME authority", Request: CreateAuthorityRequest{}, Response: Authority{},
		Handler: s.apiCreateAuthority})
	r.Handle(httpapi.Route{Method: "GET", Path: p + "/authorities/{name}", Scope: ScopeRead, Summary: "Show an authority",
		Response: Authority{}, Handler: s.apiGetAuthority})
	r.Handle(httpapi.Route{Method: "PUT", Path: p + "/authorities/{name}/policy", Scope: auth.AdminScope, Action: "certs.authority.policy",
		Summary: "Replace an authority's policy", Request: Policy{}, Response: Authority{},
		Handler: s.apiSetPolicy})
	r.Handle(httpapi.Route{Method: "POST", Path: p + "/authorities/{name}/offline", Scope: auth.AdminScope, Action: "certs.authority.offline",
		Summary: "Delete an authority's private key from Gaffer (export it first)", Response: Authority{},
		Handler: s.apiTakeOffline})
	r.Handle(httpapi.Route{Method: "POST", Path: p + "/authorities/{name}/online", Scope: auth.AdminScope, Action: "certs.authority.online",
		Summary: "Give an offline authority its private key back", Request: OnlineRequest{}, Response: Authority{},
		Handler: s.apiBringOnline})
	r.Handle(httpapi.Route{Method: "POST", Path: p + "/authorities/{name}/export", Scope: auth.AdminScope, Action: "certs.authority.export",
		Summary: "Export an authority's private key (PEM or PKCS #12)", Request: ExportRequest{},
		Handler: s.apiExportAuthority})
	r.Handle(httpapi.Route{Method: "POST", Path: p + "/kek/rotate", Scope: auth.AdminScope, Action: "certs.kek.rotate",
		Summary: "Rotate the key-encryption key and rewrap every sealed key", Response: KEKRotateResponse{},
		Handler: s.apiRotateKEK})
	s.certRoutes(r, p)
	s.revocationRoutes(r, p)
	s.operationRoutes(r, p)
	s.acmeAdminRoutes(r, p)
	s.acme.routes(r, p+"/acme")
}

// apiListAuthorities lists the authorities (GET /authorities).
func (s *Service) apiListAuthorities(w http.ResponseWriter, r *http.Request) error {
	as, err := s.mgr.Authorities(r.Context())
	if err != nil {
		return err
	}
	if as == nil {
		as = []Authority{}
	}
	return httpapi.WriteJSON(w, http.StatusOK, as)
}

// apiCreateAuthority creates a root, intermediate or ACME authority (POST /authorities).
func (s *Service) apiCreateAuthority(w http.ResponseWriter, r *http.Request) error {
	var req CreateAuthorityRequest
	if err := httpapi.DecodeJSON(r, &req); err != nil {
		return err
	}
	httpapi.SetAuditTarget(r, "authority:"+req.Name)
	a, err := s.mgr.CreateAuthority(r.Context(), req)
	if err != nil {
		return apiError(err)
	}
	return httpapi.WriteJSON(w, http.StatusCreated, a)
}

// apiGetAuthority answers one authority (GET /authorities/{name}).
func (s *Service) apiGetAuthority(w http.ResponseWriter, r *http.Request) error {
	a, err := s.mgr.Authority(r.Context(), r.PathValue("name"))
	if err != nil {
		return apiError(err)
	}
	return httpapi.WriteJSON(w, http.StatusOK, a)
}

// apiSetPolicy replaces an authority's policy (PUT /authorities/{name}/policy).
func (s *Service) apiSetPolicy(w http.ResponseWriter, r *http.Request) error {
	var pol Policy
	if err := httpapi.DecodeJSON(r, &pol); err != nil {
		return err
	}
	httpapi.SetAuditTarget(r, "authority:"+r.PathValue("name"))
	a, err := s.mgr.SetPolicy(r.Context(), r.PathValue("name"), pol)
	if err != nil {
		return apiError(err)
	}
	return httpapi.WriteJSON(w, http.StatusOK, a)
}

// apiTakeOffline deletes an authority's private key from Gaffer (POST /authorities/{name}/offline).
func (s *Service) apiTakeOffline(w http.ResponseWriter, r *http.Request) error {
	httpapi.SetAuditTarget(r, "authority:"+r.PathValue("name"))
	a, err := s.mgr.TakeOffline(r.Context(), r.PathValue("name"))
	if err != nil {
		return apiError(err)
	}
	return httpapi.WriteJSON(w, http.StatusOK, a)
}

// apiBringOnline gives an offline authority its private key back (POST /authorities/{name}/online).
func (s *Service) apiBringOnline(w http.ResponseWriter, r *http.Request) error {
	var req OnlineRequest
	if err := httpapi.DecodeJSON(r, &req); err != nil {
		return err
	}
	httpapi.SetAuditTarget(r, "authority:"+r.PathValue("name"))
	a, err := s.mgr.BringOnline(r.Context(), r.PathValue("name"), req.Key)
	if err != nil {
		return apiError(err)
	}
	return httpapi.WriteJSON(w, http.StatusOK, a)
}

// apiRotateKEK rotates the key-encryption key and rewraps every sealed key (POST /kek/rotate).
func (s *Service) apiRotateKEK(w http.ResponseWriter, r *http.Request) error {
	id, n, err := s.mgr.RotateKEK(r.Context())
	if err != nil {
		return apiError(err)
	}
	httpapi.SetAuditDetail(r, "new key-encryption key "+id+", rewrapped "+strconv.Itoa(n))
	return httpapi.WriteJSON(w, http.StatusOK, KEKRotateResponse{KEKID: id, Rewrapped: n})
}

func (s *Service) certRoutes(r *httpapi.Router, p string) {
	r.Handle(httpapi.Route{Method: "GET", Path: p + "/certificates", Scope: ScopeRead, Summary: "Search the inventory",
		Query: []httpapi.Param{
			{Name: "expiring", Description: "expiring within this time, e.g. 30d"},
			{Name: "owner"}, {Name: "team"}, {Name: "authority"}, {Name: "source", Description: "issued, imported, discovered or acme"},
			{Name: "domain", Description: "a name, or .example.com for every name under it"},
			{Name: "status", Description: "active, revoked, expired or replaced"},
			{Name: "q", Description: "substring of name, owner, team or notes; or a serial"},
			{Name: "cursor"}, {Name: "limit"},
		}, Response: ListResponse{}, Handler: s.apiListCertificates})
	r.Handle(httpapi.Route{Method: "POST", Path: p + "/certificates", Scope: ScopeWrite, Action: "certs.certificate.issue",
		Summary: "Issue a certificate from a CSR or with a generated key", Request: IssueRequest{}, Response: Certificate{},
		Handler: s.apiIssueCertificate})
	r.Handle(httpapi.Route{Method: "POST", Path: p + "/import", Scope: ScopeWrite, Action: "certs.certificate.import",
		Summary: "Import certificates from a PEM bundle", Request: ImportRequest{}, Response: ImportResponse{},
		Handler: s.apiImport})
	r.Handle(httpapi.Route{Method: "GET", Path: p + "/certificates/{ref}", Scope: ScopeRead, Summary: "Show a certificate (by ID or serial)",
		Response: Certificate{}, Handler: s.apiGetCertificate})
	r.Handle(httpapi.Route{Method: "PATCH", Path: p + "/certificates/{ref}", Scope: ScopeWrite, Action: "certs.certificate.update",
		Summary: "Change owner, team, notes, notification days or rotation", Request: Update{}, Response: Certificate{},
		Handler: s.apiUpdateCertificate})
	r.Handle(httpapi.Route{Method: "GET", Path: p + "/certificates/{ref}/lineage", Scope: ScopeRead,
		Summary: "The certificates that replaced one another around this one, oldest first", Response: []Certificate{},
		Handler: s.apiLineage})
	r.Handle(httpapi.Route{Method: "GET", Path: p + "/certificates/{ref}/chain", Scope: ScopeRead,
		Summary: "The certificate and its chain as PEM (no private key)",
		Handler: s.apiChain})
	r.Handle(httpapi.Route{Method: "POST", Path: p + "/certificates/{ref}/revoke", Scope: ScopeWrite, Action: "certs.certificate.revoke",
		Summary: "Revoke a certificate", Request: RevokeRequest{}, Response: Certificate{},
		Handler: s.apiRevokeCertificate})
	r.Handle(httpapi.Route{Method: "POST", Path: p + "/certificates/{ref}/export", Scope: auth.AdminScope, Action: "certs.certificate.export",
		Summary: "Export a certificate with its private key (PEM or PKCS #12)", Request: ExportRequest{},
		Handler: s.apiExportCertificate})
}

// apiListCertificates searches the inventory (GET /certificates).
func (s *Service) apiListCertificates(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := Filter{Owner: q.Get("owner"), Team: q.Get("team"), Authority: q.Get("authority"), Source: q.Get("source"),
		Domain: q.Get("domain"), Status: q.Get("status"), Query: q.Get("q")}
	if e := q.Get("expiring"); e != "" {
		d, err := ParseDuration(e)
		if err != nil || d <= 0 {
			return httpapi.BadRequest("expiring %q: want a duration such as 30d", e)
		}
		f.ExpiringWithin = d
	}
	switch f.Status {
	case "", "active", "revoked", "expired", "replaced":
	default:
		return httpapi.BadRequest("status %q: want active, revoked, expired or replaced", f.Status)
	}
	limit, err := httpapi.Limit(r, 100, 1000)
	if err != nil {
		return err
	}
	f.Limit = limit
	if _, err := httpapi.DecodeCursor(r, &f.AfterID); err != nil {
		return err
	}
	certs, next, err := s.mgr.List(r.Context(), f)
	if err != nil {
		return err
	}
	page := ListResponse{Items: certs}
	if page.Items == nil {
		page.Items = []Certificate{}
	}
	if next > 0 {
		page.NextCursor = httpapi.EncodeCursor(next)
	}
	return httpapi.WriteJSON(w, http.StatusOK, page)
}

// apiIssueCertificate issues a certificate from a CSR or with a generated key (POST /certificates).
func (s *Service) apiIssueCertificate(w http.ResponseWriter, r *http.Request) error {
	var req IssueRequest
	if err := httpapi.DecodeJSON(r, &req); err != nil {
		return err
	}
	httpapi.SetAuditTarget(r, "cn:"+req.CommonName)
	c, err := s.mgr.issueAny(r.Context(), req)
	if err != nil {
		return apiError(err)
	}
	httpapi.SetAuditTarget(r, certTarget(c))
	return httpapi.WriteJSON(w, http.StatusCreated, c)
}

// apiImport imports certificates from a PEM bundle (POST /import).
func (s *Service) apiImport(w http.ResponseWriter, r *http.Request) error {
	var req ImportRequest
	if err := httpapi.DecodeJSON(r, &req); err != nil {
		return err
	}
	res, err := s.mgr.Import(r.Context(), req)
	if err != nil {
		return apiError(err)
	}
	httpapi.SetAuditDetail(r, strconv.Itoa(len(res.Imported))+" imported")
	return httpapi.WriteJSON(w, http.StatusOK, res)
}

// apiGetCertificate answers one certificate, by ID or serial (GET /certificates/{ref}).
func (s *Service) apiGetCertificate(w http.ResponseWriter, r *http.Request) error {
	c, err := s.mgr.Lookup(r.Context(), r.PathValue("ref"))
	if err != nil {
		return apiError(err)
	}
	return httpapi.WriteJSON(w, http.StatusOK, c)
}

// apiUpdateCertificate changes a certificate's owner, team, notes, notification days or rotation (PATCH /certificates/{ref}).
func (s *Service) apiUpdateCertificate(w http.ResponseWriter, r *http.Request) error {
	var u Update
	if err := httpapi.DecodeJSON(r, &u); err != nil {
		return err
	}
	c, err := s.certFor(r, nil)
	if err != nil {
		return err
	}
	c, err = s.mgr.UpdateCert(r.Context(), c.ID, u)
	if err != nil {
		return apiError(err)
	}
	return httpapi.WriteJSON(w, http.StatusOK, c)
}

// apiLineage answers the certificates that replaced one another around one, oldest first (GET /certificates/{ref}/lineage).
func (s *Service) apiLineage(w http.ResponseWriter, r *http.Request) error {
	c, err := s.mgr.Lookup(r.Context(), r.PathValue("ref"))
	if err != nil {
		return apiError(err)
	}
	l, err := s.mgr.Lineage(r.Context(), c.ID)
	if err != nil {
		return apiError(err)
	}
	return httpapi.WriteJSON(w, http.StatusOK, l)
}

// apiChain answers a certificate and its chain as PEM (GET /certificates/{ref}/chain).
func (s *Service) apiChain(w http.ResponseWriter, r *http.Request) error {
	c, err := s.mgr.Lookup(r.Context(), r.PathValue("ref"))
	if err != nil {
		return apiError(err)
	}
	w.Header().Set("Content-Type", "application/pem-certificate-chain")
	_, err = w.Write([]byte(c.Certificate + c.Chain))
	return err
}

// apiRevokeCertificate revokes a certificate (POST /certificates/{ref}/revoke).
func (s *Service) apiRevokeCertificate(w http.ResponseWriter, r *http.Request) error {
	var req RevokeRequest
	c, err := s.certFor(r, &req)
	if err != nil {
		return err
	}
	c, err = s.mgr.Revoke(r.Context(), c.ID, req.Reason)
	if err != nil {
		return apiError(err)
	}
	httpapi.SetAuditDetail(r, "reason "+c.RevocationReason)
	return httpapi.WriteJSON(w, http.StatusOK, c)
}

func (s *Service) revocationRoutes(r *httpapi.Router, p string) {
	r.Handle(httpapi.Route{Method: "GET", Path: p + "/crl/{ca}", Public: true,
		Summary: "The authority's CRL (DER); public because relying parties fetch it without credentials",
		Handler: s.apiCRL})
	r.Handle(httpapi.Route{Method: "GET", Path: p + "/ca/{ca}", Public: true,
		Summary: "The authority's certificate (DER); public because clients fetch issuers from the AIA extension",
		Handler: s.apiCACertificate})
	r.Handle(httpapi.Route{Method: "POST", Path: p + "/ocsp/{ca}", Public: true, Unaudited: true, Action: "certs.ocsp.query",
		Summary: "OCSP responder (RFC 6960, POST); public and unaudited because relying parties ask it without credentials and it changes nothing",
		Handler: s.apiOCSPPost})
	r.Handle(httpapi.Route{Method: "GET", Path: p + "/ocsp/{ca}/{request...}", Public: true,
		Summary: "OCSP responder (RFC 6960, GET with the base64 request in the path); public because relying parties ask it without credentials",
		Handler: s.apiOCSPGet})
}

// apiCRL answers an authority's CRL in DER (GET /crl/{ca}).
func (s *Service) apiCRL(w http.ResponseWriter, r *http.Request) error {
	der, err := s.mgr.CRL(r.Context(), strings.TrimSuffix(r.PathValue("ca"), ".crl"))
	if err != nil {
		return apiError(err)
	}
	w.Header().Set("Content-Type", "application/pkix-crl")
	w.Header().Set("Cache-Control", "max-age="+strconv.Itoa(int(CRLRefresh/time.Second)))
	_, err = w.Write(der)
	return err
}

// apiCACertificate answers an authority's certificate in DER (GET /ca/{ca}).
func (s *Service) apiCACertificate(w http.ResponseWriter, r *http.Request) error {
	ca, err := s.mgr.CA(r.Context(), strings.TrimSuffix(r.PathValue("ca"), ".crt"))
	if err != nil {
		return apiError(err)
	}
	w.Header().Set("Content-Type", "application/pkix-cert")
	_, err = w.Write(ca.Cert.Raw)
	return err
}

// apiOCSPPost answers an OCSP request sent as the body (POST /ocsp/{ca}).
func (s *Service) apiOCSPPost(w http.ResponseWriter, r *http.Request) error {
	body, err := readLimited(r, 64<<10)
	if err != nil {
		return err
	}
	return s.answerOCSP(w, r, body)
}

// apiOCSPGet answers an OCSP request sent base64-encoded in the path (GET /ocsp/{ca}/{request...}).
func (s *Service) apiOCSPGet(w http.ResponseWriter, r *http.Request) error {
	body, err := decodeOCSPPath(r.PathValue("request"))
	if err != nil {
		return httpapi.BadRequest("OCSP request in the path: %v", err)
	}
	return s.answerOCSP(w, r, body)
}

func (s *Service) answerOCSP(w http.ResponseWriter, r *http.Request, req []byte) error {
	der, err := s.mgr.OCSP(r.Context(), r.PathValue("ca"), req)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/ocsp-response")
	w.Header().Set("Cache-Control", "max-age=60, public")
	_, err = w.Write(der)
	return err
}
