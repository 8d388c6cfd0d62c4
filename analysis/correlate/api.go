package correlate

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/auth"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
)

// Routes registers the API.
func (s *Service) Routes(r *httpapi.Router) {
	r.Handle(httpapi.Route{Method: "POST", Path: "/api/v1/analysis/correlate", Scope: WriteScope, Action: "correlate.analysis.start",
		Summary: "Rank candidate series by how they moved with a target over an anomaly window (waits for the report up to ?wait seconds, then 202)",
		Query:   []httpapi.Param{{Name: "wait", Description: "seconds to wait for the report (default --analysis-wait; 0: answer 202 at once)"}},
		Request: Request{}, Response: Report{}, Handler: s.apiCorrelate})
	r.Handle(httpapi.Route{Method: "GET", Path: "/api/v1/analysis/reports", Scope: ReadScope,
		Summary: "Analysis reports, newest first", Response: httpapi.Page[Report]{},
		Query: []httpapi.Param{{Name: "rule_id"}, {Name: "fingerprint", Description: "alert fingerprint"},
			{Name: "limit"}, {Name: "cursor"}},
		Handler: s.apiReports})
	r.Handle(httpapi.Route{Method: "GET", Path: "/api/v1/analysis/reports/{id}", Scope: ReadScope,
		Summary: "An analysis report: progress, and once complete the ranking's best candidates explained", Response: Report{},
		Handler: s.apiReport})
	r.Handle(httpapi.Route{Method: "GET", Path: "/api/v1/analysis/reports/{id}/ranking", Scope: ReadScope,
		Summary: "The complete ranking of a report's candidates, merged from every shard", Response: []Ranked{},
		Query:   []httpapi.Param{{Name: "offset"}, {Name: "limit", Description: "default 1000, at most 10000"}},
		Handler: s.apiRanking})
}

func apiError(err error) error {
	var bad *BadRequestError
	switch {
	case errors.As(err, &bad):
		return httpapi.BadRequest("%v", bad.Err)
	case errors.Is(err, ErrNotFound):
		return httpapi.NotFound("%v", err)
	}
	return err
}

func (s *Service) apiCorrelate(w http.ResponseWriter, r *http.Request) error {
	var req Request
	if err := httpapi.DecodeJSON(r, &req); err != nil {
		return err
	}
	wait := s.set.Wait
	if v := r.URL.Query().Get("wait"); v != "" {
		secs, err := strconv.ParseFloat(v, 64)
		if err != nil || secs < 0 || secs > 600 {
			return httpapi.BadRequest("wait: want seconds between 0 and 600, got %q", v)
		}
		wait = time.Duration(secs * float64(time.Second))
	}
	id, err := s.Analyze(r.Context(), req, auth.FromContext(r.Context()).Actor())
	if err != nil {
		return apiError(err)
	}
	httpapi.SetAuditTarget(r, "report:"+id)
	rep, err := s.await(r, id, wait)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/analysis/reports/"+id)
	status := http.StatusOK
	if rep.Status == StatusPreparing || rep.Status == StatusRunning {
		status = http.StatusAccepted
	}
	return httpapi.WriteJSON(w, status, rep)
}

// await polls the report until it is complete or failed, or wait passes.
func (s *Service) await(r *http.Request, id string, wait time.Duration) (*Report, error) {
	deadline := time.Now().Add(wait)
	pause := 20 * time.Millisecond
	for {
		rep, err := s.Report(r.Context(), id)
		if err != nil {
			return nil, err
		}
		if rep.Status == StatusComplete || rep.Status == StatusFailed || !time.Now().Before(deadline) {
			return rep, nil
		}
		select {
		case <-r.Context().Done():
			return nil, r.Context().Err()
		case <-time.After(min(pause, time.Until(deadline))):
		}
		pause = min(2*pause, 500*time.Millisecond)
	}
}

func (s *Service) apiReports(w http.ResponseWriter, r *http.Request) error {
	limit, err := httpapi.Limit(r, 50, 500)
	if err != nil {
		return err
	}
	var cur int64
	if _, err := httpapi.DecodeCursor(r, &cur); err != nil {
		return err
	}
	f := Filter{RuleID: r.URL.Query().Get("rule_id"), Fingerprint: r.URL.Query().Get("fingerprint"), Limit: limit}
	if cur > 0 {
		f.Before = time.UnixMilli(cur)
	}
	items, err := s.Reports(r.Context(), f)
	if err != nil {
		return err
	}
	page := httpapi.Page[Report]{Items: items}
	if len(items) == limit {
		page.NextCursor = httpapi.EncodeCursor(items[len(items)-1].CreatedAt.UnixMilli())
	}
	return httpapi.WriteJSON(w, http.StatusOK, page)
}

func (s *Service) apiReport(w http.ResponseWriter, r *http.Request) error {
	rep, err := s.Report(r.Context(), r.PathValue("id"))
	if err != nil {
		return apiError(err)
	}
	return httpapi.WriteJSON(w, http.StatusOK, rep)
}

func (s *Service) apiRanking(w http.ResponseWriter, r *http.Request) error {
	rep, err := s.Report(r.Context(), r.PathValue("id"))
	if err != nil {
		return apiError(err)
	}
	if rep.Status != StatusComplete {
		return httpapi.Conflict("report %s is %s; the ranking is complete once the report is", rep.ID, rep.Status)
	}
	limit, err := httpapi.Limit(r, 1000, 10_000)
	if err != nil {
		return err
	}
	offset := 0
	if v := r.URL.Query().Get("offset"); v != "" {
		if offset, err = strconv.Atoi(v); err != nil || offset < 0 {
			return httpapi.BadRequest("offset: want a non-negative integer, got %q", v)
		}
	}
	out, err := s.Ranking(r.Context(), rep.ID, offset, limit)
	if err != nil {
		return err
	}
	return httpapi.WriteJSON(w, http.StatusOK, out)
}
