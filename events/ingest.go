package events

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/gaffer-sre/gaffer/internal/platform/bus"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
)

// Content types of the CloudEvents HTTP binding.
const (
	structuredType = "application/cloudevents+json"
	batchType      = "application/cloudevents-batch+json"
)

// Limits on ingest.
const (
	// maxIngestBytes bounds a request body; one event must also fit the
	// bus's largest message (8 MiB).
	maxIngestBytes = 8 << 20
	// maxBatch bounds the events of one batch.
	maxBatch = 1000
)

// IngestResult answers POST /api/v1/events.
type IngestResult struct {
	Accepted int             `json:"accepted"`
	Events   []IngestedEvent `json:"events"`
}

// IngestedEvent is one stored event.
type IngestedEvent struct {
	ID     string `json:"id"`
	Source string `json:"source"`
	// Seq is the event's sequence in the stream.
	Seq uint64 `json:"seq"`
	// Duplicate is true when the stream already held an event with this
	// source and ID (published within two minutes); it was not stored again.
	Duplicate bool `json:"duplicate,omitempty"`
}

func (s *Service) handleIngest(w http.ResponseWriter, r *http.Request) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxIngestBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return httpapi.Errorf(http.StatusRequestEntityTooLarge, "too_large", "request body: larger than %d bytes", maxIngestBytes)
		}
		return httpapi.BadRequest("request body: %v", err)
	}
	evs, err := parseIngest(r, body)
	if err != nil {
		return err
	}
	if len(evs) > maxBatch {
		return httpapi.BadRequest("batch: %d events; at most %d per request", len(evs), maxBatch)
	}
	res, err := s.publishAll(r.Context(), evs)
	if len(evs) == 1 {
		httpapi.SetAuditTarget(r, "event:"+evs[0].ID)
	} else {
		httpapi.SetAuditTarget(r, fmt.Sprintf("events:%d", len(evs)))
	}
	if err != nil {
		return err
	}
	return httpapi.WriteJSON(w, http.StatusAccepted, res)
}

// parseIngest reads the events of a request in any of the CloudEvents
// HTTP modes. Nothing is stored when any event is invalid.
func parseIngest(r *http.Request, body []byte) ([]*bus.Event, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil && r.Header.Get("Content-Type") != "" {
		return nil, httpapi.Errorf(http.StatusUnsupportedMediaType, "unsupported_media_type", "Content-Type: %v", err)
	}
	var evs []*bus.Event
	switch {
	case mt == batchType:
		evs, err = bus.ParseBatch(body)
	case mt == structuredType:
		var ev *bus.Event
		if ev, err = bus.ParseEvent(body); err == nil {
			evs = []*bus.Event{ev}
		}
	case r.Header.Get("Ce-Specversion") != "":
		var ev *bus.Event
		if ev, err = parseBinary(r.Header, mt, body); err == nil {
			evs = []*bus.Event{ev}
		}
	case mt == "application/json" || mt == "":
		// Not the binding's own types, but unambiguous: a JSON object is
		// one event, an array a batch.
		if trimmed := bytes.TrimLeft(body, " \t\r\n"); len(trimmed) > 0 && trimmed[0] == '[' {
			evs, err = bus.ParseBatch(body)
		} else {
			var ev *bus.Event
			if ev, err = bus.ParseEvent(body); err == nil {
				evs = []*bus.Event{ev}
			}
		}
	default:
		return nil, httpapi.Errorf(http.StatusUnsupportedMediaType, "unsupported_media_type",
			"Content-Type %q: send %s, %s, or a binary-mode event with ce-* headers", mt, structuredType, batchType)
	}
	if err != nil {
		var fe *bus.FieldError
		if errors.As(err, &fe) {
			return nil, httpapi.Errorf(http.StatusBadRequest, "invalid_event", "%s: %s", fe.Field, fe.Message)
		}
		return nil, httpapi.BadRequest("%v", err)
	}
	if len(evs) == 0 {
		return nil, httpapi.BadRequest("batch: empty")
	}
	return evs, nil
}

// parseBinary builds an event from a binary-mode request: attributes in
// ce-* headers (percent-encoded, as the HTTP binding says), data in the
// body.
func parseBinary(h http.Header, mediaType string, body []byte) (*bus.Event, error) {
	attrs := map[string]any{}
	for name, vals := range h {
		lower := strings.ToLower(name)
		if !strings.HasPrefix(lower, "ce-") || len(vals) == 0 {
			continue
		}
		attr := strings.TrimPrefix(lower, "ce-")
		v, err := url.PathUnescape(vals[0])
		if err != nil {
			return nil, &bus.FieldError{Field: attr, Message: "header ce-" + attr + ": bad percent-encoding"}
		}
		attrs[attr] = v
	}
	if ct := h.Get("Content-Type"); ct != "" {
		attrs["datacontenttype"] = ct
	}
	if len(body) > 0 {
		if mediaType == "application/json" || strings.HasSuffix(mediaType, "+json") {
			if !json.Valid(body) {
				return nil, &bus.FieldError{Field: "data", Message: "the body is not valid JSON but Content-Type says it is"}
			}
			attrs["data"] = json.RawMessage(body)
		} else {
			attrs["data_base64"] = body // encoding/json writes []byte as base64
		}
	}
	b, err := json.Marshal(attrs)
	if err != nil {
		return nil, fmt.Errorf("binary-mode event: %w", err)
	}
	return bus.ParseEvent(b)
}

// publishAll stores events in order. A failure part way answers 503: the
// events before it are stored, and retrying the whole request is safe,
// because the stream drops repeats of a source and ID.
func (s *Service) publishAll(ctx context.Context, evs []*bus.Event) (*IngestResult, error) {
	res := &IngestResult{Events: make([]IngestedEvent, 0, len(evs))}
	for i, ev := range evs {
		ack, err := s.bus.Publish(ctx, ev)
		if err != nil {
			s.log.Error("publish event", "id", ev.ID, "type", ev.Type, "error", err)
			return nil, httpapi.Unavailable("event stream: stored %d of %d events, then: %v; retry the request "+
				"(events already stored are recognised by source and id and not stored twice)", i, len(evs), err)
		}
		res.Events = append(res.Events, IngestedEvent{ID: ev.ID, Source: ev.Source, Seq: ack.Sequence, Duplicate: ack.Duplicate})
		if !ack.Duplicate {
			res.Accepted++
		}
	}
	return res, nil
}
