package certs

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/gaffer-sre/gaffer/internal/platform/auth"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
	"github.com/gaffer-sre/gaffer/internal/platform/jobs"
)

// RotateRequest rotates the named certificates now, or with none named
// enqueues every certificate due for automatic rotation.
type RotateRequest struct {
	Certificates []string `json:"certificates,omitempty"`
}

// RotateResponse reports rotations.
type RotateResponse struct {
	Rotated  []RotateResult `json:"rotated"`
	Enqueued []int64        `json:"enqueued,omitempty"`
	Errors   []string       `json:"errors,omitempty"`
}

// ScanAPIRequest is a scan, run now or (Async) as a job.
type ScanAPIRequest struct {
	ScanRequest
	Async bool `json:"async,omitempty"`
}

func (s *Service) operationRoutes(r *httpapi.Router, p string) {
	r.Handle(httpapi.Route{Method: "POST", Path: p + "/rotate", Scope: ScopeWrite, Action: "certs.certificate.rotate",
		Summary: "Rotate certificates now (reissue and redeploy), or enqueue every one due", Request: RotateRequest{},
		Response: RotateResponse{}, Handler: s.apiRotate})
	r.Handle(httpapi.Route{Method: "POST", Path: p + "/bulk", Scope: ScopeWrite, Action: "certs.certificates.bulk",
		Summary: "Reissue or revoke every certificate matching a filter, as a job", Request: BulkRequest{},
		Response: BulkResponse{}, Handler: s.apiBulk})
	r.Handle(httpapi.Route{Method: "POST", Path: p + "/scans", Scope: ScopeWrite, Action: "certs.scan.start",
		Summary: "Discover certificates on TLS endpoints (host:port, hosts, CIDR ranges)", Request: ScanAPIRequest{},
		Response: ScanResponse{}, Handler: s.apiScan})
	r.Handle(httpapi.Route{Method: "GET", Path: p + "/notifications", Scope: ScopeRead, Summary: "Sent expiry notifications, newest first",
		Response: []Notification{}, Handler: s.apiNotifications})
	r.Handle(httpapi.Route{Method: "POST", Path: p + "/check", Scope: ScopeWrite, Action: "certs.endpoint.check",
		Summary: "Send due expiry notifications and enqueue due rotations now", Response: CheckResult{},
		Handler: s.apiCheck})
	r.Handle(httpapi.Route{Method: "GET", Path: p + "/certificates/{ref}/destinations", Scope: ScopeRead,
		Summary: "Where a certificate is deployed", Response: []Destination{},
		Handler: s.apiDestinations})
	r.Handle(httpapi.Route{Method: "POST", Path: p + "/certificates/{ref}/destinations", Scope: auth.AdminScope,
		Action: "certs.destination.add", Summary: "Add a deployment destination (it receives the private key)",
		Request: Destination{}, Response: Destination{}, Handler: s.apiAddDestination})
	r.Handle(httpapi.Route{Method: "DELETE", Path: p + "/certificates/{ref}/destinations/{id}", Scope: auth.AdminScope,
		Action: "certs.destination.delete", Summary: "Remove a deployment destination",
		Handler: s.apiDeleteDestination})
	r.Handle(httpapi.Route{Method: "POST", Path: p + "/certificates/{ref}/deploy", Scope: ScopeWrite, Action: "certs.certificate.deploy",
		Summary: "Deploy a certificate to its destinations now", Response: []Destination{},
		Handler: s.apiDeploy})
}

// apiRotate rotates the named certificates now, or enqueues every one due (POST /rotate).
func (s *Service) apiRotate(w http.ResponseWriter, r *http.Request) error {
	var req RotateRequest
	if err := decodeOptional(r, &req); err != nil {
		return err
	}
	res := RotateResponse{Rotated: []RotateResult{}}
	if len(req.Certificates) == 0 {
		cr, err := s.check(r.Context())
		if err != nil {
			return err
		}
		res.Enqueued = cr.Rotating
		return httpapi.WriteJSON(w, http.StatusAccepted, res)
	}
	for _, ref := range req.Certificates {
		c, err := s.mgr.Lookup(r.Context(), ref)
		if err != nil {
			return apiError(err)
		}
		rr, err := s.mgr.Rotate(r.Context(), c.ID)
		if rr.New.ID != 0 {
			res.Rotated = append(res.Rotated, rr)
		}
		if err != nil {
			res.Errors = append(res.Errors, ref+": "+err.Error())
		}
	}
	status := http.StatusOK
	if len(res.Errors) > 0 {
		httpapi.SetAuditDetail(r, strings.Join(res.Errors, "; "))
		status = http.StatusMultiStatus
		if len(res.Rotated) == 0 {
			status = http.StatusUnprocessableEntity
		}
	}
	return httpapi.WriteJSON(w, status, res)
}

// apiBulk starts a job that reissues or revokes every certificate matching a filter (POST /bulk).
func (s *Service) apiBulk(w http.ResponseWriter, r *http.Request) error {
	var req BulkRequest
	if err := httpapi.DecodeJSON(r, &req); err != nil {
		return err
	}
	f, err := req.filter()
	if err != nil {
		return apiError(err)
	}
	ids, err := s.mgr.IDs(r.Context(), f)
	if err != nil {
		return err
	}
	job, err := s.deps.Jobs.Enqueue(r.Context(), JobBulk, req, nil)
	if err != nil {
		return err
	}
	httpapi.SetAuditTarget(r, "job:"+strconv.FormatInt(job.ID, 10))
	httpapi.SetAuditDetail(r, "bulk "+req.Action+" of "+strconv.Itoa(len(ids))+" certificates")
	return httpapi.WriteJSON(w, http.StatusAccepted, BulkResponse{JobID: job.ID, Matched: len(ids)})
}

// apiScan discovers certificates on TLS endpoints, now or as a job (POST /scans).
func (s *Service) apiScan(w http.ResponseWriter, r *http.Request) error {
	var req ScanAPIRequest
	if err := httpapi.DecodeJSON(r, &req); err != nil {
		return err
	}
	if _, err := expandTargets(req.Targets, req.Ports); err != nil {
		return apiError(err)
	}
	if req.Async {
		job, err := s.deps.Jobs.Enqueue(r.Context(), JobScan, req.ScanRequest, nil)
		if err != nil {
			return err
		}
		httpapi.SetAuditTarget(r, "job:"+strconv.FormatInt(job.ID, 10))
		return httpapi.WriteJSON(w, http.StatusAccepted, jobs.Enqueued{ID: job.ID})
	}
	res, err := s.mgr.Scan(r.Context(), req.ScanRequest)
	if err != nil {
		return apiError(err)
	}
	httpapi.SetAuditDetail(r, "probed "+strconv.Itoa(res.Probed)+", found "+strconv.Itoa(res.Found))
	return httpapi.WriteJSON(w, http.StatusOK, res)
}

// apiNotifications lists sent expiry notifications, newest first (GET /notifications).
func (s *Service) apiNotifications(w http.ResponseWriter, r *http.Request) error {
	limit, err := httpapi.Limit(r, 100, 1000)
	if err != nil {
		return err
	}
	n, err := s.mgr.Notifications(r.Context(), limit)
	if err != nil {
		return err
	}
	return httpapi.WriteJSON(w, http.StatusOK, n)
}

// apiCheck sends due expiry notifications and enqueues due rotations now (POST /check).
func (s *Service) apiCheck(w http.ResponseWriter, r *http.Request) error {
	res, err := s.check(r.Context())
	if err != nil {
		return err
	}
	return httpapi.WriteJSON(w, http.StatusOK, res)
}

// apiDestinations lists where a certificate is deployed (GET /certificates/{ref}/destinations).
func (s *Service) apiDestinations(w http.ResponseWriter, r *http.Request) error {
	c, err := s.mgr.Lookup(r.Context(), r.PathValue("ref"))
	if err != nil {
		return apiError(err)
	}
	ds, err := s.mgr.Destinations(r.Context(), c.ID)
	if err != nil {
		return err
	}
	return httpapi.WriteJSON(w, http.StatusOK, ds)
}

// apiAddDestination adds a deployment destination (POST /certificates/{ref}/destinations).
func (s *Service) apiAddDestination(w http.ResponseWriter, r *http.Request) error {
	var d Destination
	if err := httpapi.DecodeJSON(r, &d); err != nil {
		return err
	}
	c, err := s.certFor(r, nil)
	if err != nil {
		return err
	}
	d.CertID = c.ID
	d, err = s.mgr.AddDestination(r.Context(), d)
	if err != nil {
		return apiError(err)
	}
	httpapi.SetAuditDetail(r, "destination "+d.describe())
	return httpapi.WriteJSON(w, http.StatusCreated, d)
}

// apiDeleteDestination removes a deployment destination (DELETE /certificates/{ref}/destinations/{id}).
func (s *Service) apiDeleteDestination(w http.ResponseWriter, r *http.Request) error {
	c, err := s.mgr.Lookup(r.Context(), r.PathValue("ref"))
	if err != nil {
		return apiError(err)
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return httpapi.BadRequest("destination id %q: not a number", r.PathValue("id"))
	}
	httpapi.SetAuditTarget(r, certTarget(c))
	if err := s.mgr.DeleteDestination(r.Context(), c.ID, id); err != nil {
		return apiError(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// apiDeploy deploys a certificate to its destinations now (POST /certificates/{ref}/deploy).
func (s *Service) apiDeploy(w http.ResponseWriter, r *http.Request) error {
	c, err := s.certFor(r, nil)
	if err != nil {
		return err
	}
	ds, err := s.mgr.Destinations(r.Context(), c.ID)
	if err != nil {
		return err
	}
	for _, d := range ds {
		s.mgr.Deploy(r.Context(), d, c, nil)
	}
	ds, err = s.mgr.Destinations(r.Context(), c.ID)
	if err != nil {
		return err
	}
	return httpapi.WriteJSON(w, http.StatusOK, ds)
}
