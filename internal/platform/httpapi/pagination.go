package httpapi

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
)

// Page is the shape of every paginated list response.
type Page[T any] struct {
	Items []T `json:"items"`
	// NextCursor is passed back as ?cursor= to get the next page; empty on
	// the last page.
	NextCursor string `json:"next_cursor,omitempty"`
}

// EncodeCursor turns a position (any JSON value) into an opaque cursor.
func EncodeCursor(pos any) string {
	b, _ := json.Marshal(pos)
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor reads ?cursor= into pos. It returns false when there is no
// cursor, and a 400 when the cursor is malformed.
func DecodeCursor(r *http.Request, pos any) (bool, error) {
	c := r.URL.Query().Get("cursor")
	if c == "" {
		return false, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || json.Unmarshal(b, pos) != nil {
		return false, BadRequest("cursor: malformed; pass back the next_cursor of a previous page unchanged")
	}
	return true, nil
}

// Limit reads ?limit=, defaulting to def and capping at max.
func Limit(r *http.Request, def, max int) (int, error) {
	s := r.URL.Query().Get("limit")
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0, BadRequest("limit: want a positive integer, got %q", s)
	}
	if n > max {
		n = max
	}
	return n, nil
}
