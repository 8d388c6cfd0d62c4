package events

import (
	"net/http"
	"strconv"

	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
)

func (s *Service) deadLetterRoutes(r *httpapi.Router) {
	r.Handle(httpapi.Route{Method: "GET", Path: "/api/v1/events/deadletters", Scope: ReadScope,
		Summary: "Actions that failed for good, newest first", Response: httpapi.Page[DeadLetter]{},
		Query: []httpapi.Param{{Name: "status", Description: "dead (default), redriving, delivered or all"},
			{Name: "rule", Description: "rule ID"}, {Name: "limit"}, {Name: "cursor"}},
		Handler: s.handleListDeadLetters})
	r.Handle(httpapi.Route{Method: "GET", Path: "/api/v1/events/deadletters/{id}", Scope: ReadScope,
		Summary: "One dead letter, with its event", Response: DeadLetter{}, Handler: s.handleGetDeadLetter})
	r.Handle(httpapi.Route{Method: "POST", Path: "/api/v1/events/deadletters/{id}/redrive", Scope: WriteScope,
		Action: "events.deadletters.redrive", Summary: "Run a dead-lettered action again",
		Response: DeadLetter{}, Handler: s.handleRedrive})
}

func deadLetterFilter(r *http.Request) (DeadLetterFilter, error) {
	q := r.URL.Query()
	f := DeadLetterFilter{Status: q.Get("status"), RuleID: q.Get("rule")}
	switch f.Status {
	case "":
		f.Status = DeadLetterDead
	case "all":
		f.Status = ""
	case DeadLetterDead, DeadLetterRedriving, DeadLetterDelivered:
	default:
		return f, httpapi.BadRequest("status: want dead, redriving, delivered or all, got %q", f.Status)
	}
	limit, err := httpapi.Limit(r, 50, 500)
	if err != nil {
		return f, err
	}
	f.Limit = limit
	if _, err := httpapi.DecodeCursor(r, &f.Before); err != nil {
		return f, err
	}
	return f, nil
}

func (s *Service) listDeadLetters(r *http.Request) (httpapi.Page[DeadLetter], error) {
	var page httpapi.Page[DeadLetter]
	f, err := deadLetterFilter(r)
	if err != nil {
		return page, err
	}
	dls, next, err := s.deadletter.list(r.Context(), f)
	if err != nil {
		return page, err
	}
	page.Items = make([]DeadLetter, 0, len(dls))
	for _, dl := range dls {
		page.Items = append(page.Items, *dl)
	}
	if next > 0 {
		page.NextCursor = httpapi.EncodeCursor(next)
	}
	return page, nil
}

func (s *Service) handleListDeadLetters(w http.ResponseWriter, r *http.Request) error {
	page, err := s.listDeadLetters(r)
	if err != nil {
		return err
	}
	return httpapi.WriteJSON(w, http.StatusOK, page)
}

func deadLetterID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, httpapi.BadRequest("id: want a positive integer, got %q", r.PathValue("id"))
	}
	httpapi.SetAuditTarget(r, "deadletter:"+r.PathValue("id"))
	return id, nil
}

func (s *Service) handleGetDeadLetter(w http.ResponseWriter, r *http.Request) error {
	id, err := deadLetterID(r)
	if err != nil {
		return err
	}
	dl, err := s.deadletter.get(r.Context(), id)
	if err != nil {
		return apiError(err)
	}
	return httpapi.WriteJSON(w, http.StatusOK, dl)
}

func (s *Service) handleRedrive(w http.ResponseWriter, r *http.Request) error {
	id, err := deadLetterID(r)
	if err != nil {
		return err
	}
	dl, err := s.Redrive(r.Context(), id)
	if !wantsJSON(r) {
		if err != nil {
			return err
		}
		http.Redirect(w, r, "/events/deadletters", http.StatusSeeOther)
		return nil
	}
	if err != nil {
		return err
	}
	return httpapi.WriteJSON(w, http.StatusAccepted, dl)
}
