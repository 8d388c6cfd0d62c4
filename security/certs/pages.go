package certs

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/auth"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
	"github.com/gaffer-sre/gaffer/internal/platform/ui"
)

type inventoryData struct {
	Error               string
	Certs               []Certificate
	Next                string
	Chart               string
	Expiring30, Expired int
	Statuses, Sources   []string
}

type certData struct {
	Error        string
	Cert         Certificate
	Lineage      []Certificate
	Destinations []Destination
	CanWrite     bool
	// CanRevoke says the page offers Revoke (see revocable).
	CanRevoke bool
	Reasons   []string
}

// Pages registers the certificate manager's UI.
func (s *Service) Pages(sh *ui.Shell) {
	s.pages = map[string]*ui.Page{}
	for _, name := range []string{"inventory", "cert", "authorities", "notifications"} {
		s.pages[name] = sh.Parse(templatesFS, "templates/tabs.html", "templates/"+name+".html")
	}
	sh.Nav(ui.NavItem{Title: "Certificates", Path: "/certs", Scope: ScopeRead, Order: 510})
	sh.Handle(httpapi.Route{Method: "GET", Path: "/certs", Scope: ScopeRead, Summary: "Certificate inventory page", Handler: s.pageInventory})
	sh.Handle(httpapi.Route{Method: "GET", Path: "/certs/authorities", Scope: ScopeRead, Summary: "Certificate authorities page",
		Handler: s.pageAuthorities})
	sh.Handle(httpapi.Route{Method: "GET", Path: "/certs/notifications", Scope: ScopeRead, Summary: "Expiry notifications page",
		Handler: s.pageNotifications})
	sh.Handle(httpapi.Route{Method: "GET", Path: "/certs/c/{id}", Scope: ScopeRead, Summary: "Certificate detail page",
		Handler: s.pageCertificate})
	sh.Handle(httpapi.Route{Method: "POST", Path: "/certs/c/{id}/revoke", Scope: ScopeWrite, Action: "certs.certificate.revoke",
		Summary: "Revoke a certificate from the UI", Handler: s.pageRevoke})
	sh.Handle(httpapi.Route{Method: "POST", Path: "/certs/c/{id}/rotate", Scope: ScopeWrite, Action: "certs.certificate.rotate",
		Summary: "Rotate a certificate from the UI", Handler: s.pageRotate})
}

// pageNotifications renders the sent expiry notifications (GET /certs/notifications).
func (s *Service) pageNotifications(w http.ResponseWriter, r *http.Request) error {
	n, err := s.mgr.Notifications(r.Context(), 200)
	if err != nil {
		return err
	}
	return s.pages["notifications"].Render(w, r, http.StatusOK, "Certificate notifications",
		map[string]any{"Notifications": n, "Days": s.mgr.defaultNotifyDays()})
}

// pageCertificate renders a certificate's detail page (GET /certs/c/{id}).
func (s *Service) pageCertificate(w http.ResponseWriter, r *http.Request) error {
	return s.renderCert(w, r, http.StatusOK, "")
}

// pageRevoke revokes a certificate from its page (POST /certs/c/{id}/revoke).
func (s *Service) pageRevoke(w http.ResponseWriter, r *http.Request) error {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	httpapi.SetAuditTarget(r, "cert:"+r.PathValue("id"))
	if _, err := s.mgr.Revoke(r.Context(), id, r.PostFormValue("reason")); err != nil {
		return s.renderCert(w, r, pageStatus(err), err.Error())
	}
	http.Redirect(w, r, "/certs/c/"+r.PathValue("id"), http.StatusSeeOther)
	return nil
}

// pageRotate rotates a certificate from its page (POST /certs/c/{id}/rotate).
func (s *Service) pageRotate(w http.ResponseWriter, r *http.Request) error {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	httpapi.SetAuditTarget(r, "cert:"+r.PathValue("id"))
	res, err := s.mgr.Rotate(r.Context(), id)
	if res.New.ID == 0 {
		return s.renderCert(w, r, pageStatus(err), err.Error())
	}
	http.Redirect(w, r, "/certs/c/"+strconv.FormatInt(res.New.ID, 10), http.StatusSeeOther)
	return nil
}

func pageStatus(err error) int {
	var he *httpapi.Error
	if errors.As(apiError(err), &he) {
		return he.Status
	}
	return http.StatusInternalServerError
}

// pageInventory renders the certificate inventory with its filters and expiry chart (GET /certs).
func (s *Service) pageInventory(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	d := inventoryData{Statuses: []string{"active", "revoked", "expired", "replaced"},
		Sources: []string{SourceIssued, SourceACME, SourceImported, SourceDiscovered}}
	f := Filter{Owner: q.Get("owner"), Authority: q.Get("authority"), Source: q.Get("source"), Domain: q.Get("domain"),
		Status: q.Get("status"), Query: q.Get("q"), Limit: 100}
	if e := q.Get("expiring"); e != "" {
		if v, err := ParseDuration(e); err == nil && v > 0 {
			f.ExpiringWithin = v
		} else {
			d.Error = "expiring: want a duration such as 30d"
		}
	}
	if !slices.Contains(append(d.Statuses, ""), f.Status) {
		f.Status, d.Error = "", "unknown status"
	}
	if _, err := httpapi.DecodeCursor(r, &f.AfterID); err != nil {
		d.Error = "bad cursor"
	}
	certs, next, err := s.mgr.List(r.Context(), f)
	if err != nil {
		return err
	}
	d.Certs = certs
	if next > 0 {
		d.Next = httpapi.EncodeCursor(next)
	}
	if d.Chart, d.Expiring30, d.Expired, err = s.expiryChart(r); err != nil {
		return err
	}
	return s.pages["inventory"].Render(w, r, http.StatusOK, "Certificates", d)
}

// expiryChart counts live certificates expiring each week of the next 26.
func (s *Service) expiryChart(r *http.Request) (string, int, int, error) {
	now := s.mgr.now()
	rows, err := s.mgr.store.QueryContext(r.Context(), `SELECT not_after FROM certs_certificates
		WHERE revoked_at IS NULL AND replaced_by IS NULL AND not_after <= ?`, now.Add(26*7*24*time.Hour).UnixMilli())
	if err != nil {
		return "", 0, 0, err
	}
	defer rows.Close()
	week := 7 * 24 * time.Hour
	start := now.Truncate(24 * time.Hour)
	counts := make([]float64, 26)
	times := make([]int64, 26)
	for i := range times {
		times[i] = start.Add(time.Duration(i) * week).Unix()
	}
	soon, expired := 0, 0
	for rows.Next() {
		var na int64
		if err := rows.Scan(&na); err != nil {
			return "", 0, 0, err
		}
		t := time.UnixMilli(na)
		switch {
		case !t.After(now):
			expired++
			continue
		case t.Sub(now) <= 30*24*time.Hour:
			soon++
		}
		if i := int(t.Sub(start) / week); i >= 0 && i < len(counts) {
			counts[i]++
		}
	}
	b, err := json.Marshal(map[string]any{"times": times, "series": []map[string]any{{"label": "expiring that week", "values": counts}}})
	return string(b), soon, expired, err
}

func (s *Service) renderCert(w http.ResponseWriter, r *http.Request, status int, msg string) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return httpapi.NotFound("no certificate %q", r.PathValue("id"))
	}
	c, err := s.mgr.Get(r.Context(), id)
	if err != nil {
		return apiError(err)
	}
	d := certData{Error: msg, Cert: c, CanWrite: auth.FromContext(r.Context()).Has(ScopeWrite), Reasons: reasonNames()}
	d.CanRevoke = d.CanWrite && revocable(c)
	if d.Lineage, err = s.mgr.Lineage(r.Context(), id); err != nil {
		return err
	}
	if d.Destinations, err = s.mgr.Destinations(r.Context(), id); err != nil {
		return err
	}
	return s.pages["cert"].Render(w, r, status, c.CommonName, d)
}

// pageAuthorities renders the certificate authorities (GET /certs/authorities).
func (s *Service) pageAuthorities(w http.ResponseWriter, r *http.Request) error {
	as, err := s.mgr.Authorities(r.Context())
	if err != nil {
		return err
	}
	counts := map[string]int{}
	rows, err := s.mgr.store.QueryContext(r.Context(), `SELECT authority, COUNT(*) FROM certs_certificates GROUP BY authority`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var a string
		var n int
		if err := rows.Scan(&a, &n); err != nil {
			return err
		}
		counts[a] = n
	}
	return s.pages["authorities"].Render(w, r, http.StatusOK, "Certificate authorities", map[string]any{"Authorities": as, "Counts": counts})
}

// revocable reports whether revoking c means anything: Gaffer issued it
// (from an internal authority or by ACME) and it is neither revoked nor
// expired. An expired certificate is no longer trusted by anyone, and CRLs
// and OCSP drop it, so its page offers no Revoke.
func revocable(c Certificate) bool {
	return c.RevokedAt == nil && c.Status != "expired" && (c.Source == SourceIssued || c.Source == SourceACME)
}

// reasonNames lists the revocation reasons in RFC 5280 code order, so a
// menu of them starts with, and defaults to, unspecified.
func reasonNames() []string {
	names := make([]string, 0, len(reasonCodes))
	for name := range reasonCodes {
		names = append(names, name)
	}
	slices.SortFunc(names, func(a, b string) int { return reasonCodes[a] - reasonCodes[b] })
	return names
}
