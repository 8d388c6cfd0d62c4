package events

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
)

var filterParams = []httpapi.Param{
	{Name: "type", Description: "event type; a trailing * matches a prefix"},
	{Name: "source", Description: "event source; a trailing * matches a prefix"},
	{Name: "filter", Description: "CEL condition over the event, as in rules"},
}

var listParams = append(append([]httpapi.Param{}, filterParams...),
	httpapi.Param{Name: "since", Description: "RFC 3339 time, or a duration ago (\"1h\"); on the event's time"},
	httpapi.Param{Name: "until", Description: "RFC 3339 time, or a duration ago; exclusive"},
	httpapi.Param{Name: "limit", Description: "page size, default 50, at most 500"},
	httpapi.Param{Name: "cursor", Description: "next_cursor of the previous page"})

var tailParams = filterParams

// filterFrom reads the filter parameters of a request.
func filterFrom(r *http.Request, now time.Time, withTimes bool) (*eventFilter, error) {
	q := r.URL.Query()
	f := &eventFilter{Type: q.Get("type"), Source: q.Get("source")}
	var err error
	if f.Expr, err = compileFilter(q.Get("filter")); err != nil {
		return nil, apiError(err)
	}
	if withTimes {
		if f.Since, err = parseTime("since", q.Get("since"), now); err != nil {
			return nil, err
		}
		if f.Until, err = parseTime("until", q.Get("until"), now); err != nil {
			return nil, err
		}
	}
	return f, nil
}

func (s *Service) listRequest(r *http.Request) (*EventList, error) {
	f, err := filterFrom(r, s.now(), true)
	if err != nil {
		return nil, err
	}
	limit, err := httpapi.Limit(r, 50, 500)
	if err != nil {
		return nil, err
	}
	var before uint64
	if _, err := httpapi.DecodeCursor(r, &before); err != nil {
		return nil, err
	}
	return s.listEvents(r.Context(), f, before, limit)
}

func (s *Service) handleList(w http.ResponseWriter, r *http.Request) error {
	list, err := s.listRequest(r)
	if err != nil {
		return err
	}
	return httpapi.WriteJSON(w, http.StatusOK, list)
}

func (s *Service) handleGetEvent(w http.ResponseWriter, r *http.Request) error {
	seq, err := strconv.ParseUint(r.PathValue("seq"), 10, 64)
	if err != nil || seq == 0 {
		return httpapi.BadRequest("seq: want a positive integer (the event's stream sequence), got %q", r.PathValue("seq"))
	}
	se, _, ok, err := s.fetch(r.Context(), seq)
	if err != nil {
		return err
	}
	if !ok {
		return httpapi.NotFound("event %d: not in the stream (never stored, or past retention)", seq)
	}
	return httpapi.WriteJSON(w, http.StatusOK, se)
}
