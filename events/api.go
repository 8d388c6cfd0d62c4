package events

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gaffer-sre/gaffer/events/eventsapi"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
)

// Scopes of the events API.
const (
	ReadScope  = eventsapi.ReadScope
	WriteScope = eventsapi.WriteScope
)

// Routes implements platform.RouteProvider.
func (s *Service) Routes(r *httpapi.Router) {
	s.eventRoutes(r)
	s.ruleRoutes(r)
	s.deadLetterRoutes(r)
}

func (s *Service) eventRoutes(r *httpapi.Router) {
	r.Handle(httpapi.Route{Method: "POST", Path: "/api/v1/events", Scope: WriteScope, Action: "events.event.publish", AuditSummary: true,
		Summary: "Publish CloudEvents: structured (application/cloudevents+json), batch " +
			"(application/cloudevents-batch+json) or binary mode (ce-* headers); a batch with one invalid event is refused whole",
		Response: IngestResult{}, Handler: s.handleIngest})
	r.Handle(httpapi.Route{Method: "GET", Path: "/api/v1/events", Scope: ReadScope,
		Summary: "Stored events, newest first", Response: EventList{}, Query: listParams,
		Handler: s.handleList})
	r.Handle(httpapi.Route{Method: "GET", Path: "/api/v1/events/{seq}", Scope: ReadScope,
		Summary: "One stored event by stream sequence", Response: StoredEvent{}, Handler: s.handleGetEvent})
	r.Handle(httpapi.Route{Method: "GET", Path: "/api/v1/events/stream", Scope: ReadScope,
		Summary: "Live tail of new events as server-sent events (one CloudEvent per message)",
		Query:   tailParams, Streaming: true, Handler: s.handleTail})
}

// apiError turns the package's errors into API errors.
func apiError(err error) error {
	if field, msg, ok := fieldError(err); ok {
		return httpapi.BadRequest("%s: %s", field, msg)
	}
	switch {
	case errors.Is(err, ErrRuleNotFound), errors.Is(err, ErrDeadLetterNotFound):
		return httpapi.NotFound("%v", err)
	case errors.Is(err, ErrRuleNameTaken):
		return httpapi.Conflict("name: %v", err)
	}
	return err
}

// parseTime reads a time parameter: RFC 3339, or a duration meaning that
// long ago ("90m", "24h").
func parseTime(name, v string, now time.Time) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(v); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, httpapi.BadRequest("%s: want an RFC 3339 time or a duration ago such as \"1h\", got %q", name, v)
}

// wantsJSON tells API clients from UI form posts, which get a redirect.
func wantsJSON(r *http.Request) bool {
	return httpapi.SessionFrom(r.Context()) == nil || strings.Contains(r.Header.Get("Accept"), "application/json")
}
