package httpapi

import (
	"errors"
	"fmt"
	"net/http"
)

// Error is an API error with its HTTP status and a stable machine-readable
// code. Handlers return it (possibly wrapped); anything else becomes a 500
// whose message is not shown to the client.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message) }

// Errorf returns an *Error with a formatted message.
func Errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// BadRequest is a 400 "invalid_request" error.
func BadRequest(format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, "invalid_request", format, args...)
}

// NotFound is a 404 "not_found" error.
func NotFound(format string, args ...any) *Error {
	return Errorf(http.StatusNotFound, "not_found", format, args...)
}

// Conflict is a 409 "conflict" error.
func Conflict(format string, args ...any) *Error {
	return Errorf(http.StatusConflict, "conflict", format, args...)
}

// Unavailable is a 503 "unavailable" error.
func Unavailable(format string, args ...any) *Error {
	return Errorf(http.StatusServiceUnavailable, "unavailable", format, args...)
}

var (
	errUnauthenticated = &Error{Status: http.StatusUnauthorized, Code: "unauthenticated",
		Message: "a valid bearer token (Authorization: Bearer gft_...) or UI session is required"}
	errCSRF = &Error{Status: http.StatusForbidden, Code: "csrf",
		Message: "missing or wrong CSRF token: send the X-CSRF-Token header or csrf_token form field from your session"}
)

func errForbidden(scope string) *Error {
	return Errorf(http.StatusForbidden, "forbidden", "this call needs the %q scope", scope)
}

// asError converts any error into the *Error to send.
func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Status: http.StatusInternalServerError, Code: "internal", Message: "internal error; see the server log for the request ID"}
}
