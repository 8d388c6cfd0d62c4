package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// MaxBodyBytes bounds JSON request bodies unless a route sets its own limit.
const MaxBodyBytes = 8 << 20

// WriteJSON writes v as JSON with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	return enc.Encode(v)
}

// WriteError writes err as the JSON error envelope.
func WriteError(w http.ResponseWriter, err error) {
	e := asError(err)
	WriteJSON(w, e.Status, map[string]*Error{"error": e})
}

// DecodeJSON reads the request body into v, refusing unknown fields, bodies
// over MaxBodyBytes and trailing data. Its errors are 400s that name the
// offending field.
func DecodeJSON(r *http.Request, v any) error {
	body := http.MaxBytesReader(nil, r.Body, MaxBodyBytes)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return BadRequest("request body: unexpected data after the JSON value")
	}
	if _, err := io.Copy(io.Discard, body); err != nil {
		return jsonError(err)
	}
	return nil
}

func jsonError(err error) error {
	var (
		syntax   *json.SyntaxError
		typeErr  *json.UnmarshalTypeError
		tooLarge *http.MaxBytesError
	)
	switch {
	case errors.Is(err, io.EOF):
		return BadRequest("request body: empty; a JSON object is required")
	case errors.As(err, &syntax):
		return BadRequest("request body: invalid JSON at byte %d: %v", syntax.Offset, err)
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			field = "request body"
		}
		return BadRequest("%s: expected %s, got JSON %s", field, typeErr.Type, typeErr.Value)
	case errors.As(err, &tooLarge):
		return Errorf(http.StatusRequestEntityTooLarge, "too_large", "request body: larger than %d bytes", tooLarge.Limit)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return BadRequest("%s: unknown field", strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`))
	}
	return BadRequest("request body: %v", fmt.Errorf("%w", err))
}
