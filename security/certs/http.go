package certs

import (
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
)

// readLimited reads a request body of at most max bytes.
func readLimited(r *http.Request, max int64) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, max))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, httpapi.Errorf(http.StatusRequestEntityTooLarge, "too_large", "request body over %d bytes", max)
	}
	if err != nil {
		return nil, httpapi.BadRequest("read request body: %v", err)
	}
	return b, nil
}

// decodeOCSPPath decodes the base64 (RFC 6960 appendix A.1, URL-escaped)
// request of an OCSP GET.
func decodeOCSPPath(p string) ([]byte, error) {
	if u, err := url.PathUnescape(p); err == nil {
		p = u
	}
	p = strings.TrimSpace(p)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(p); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("not base64")
}

// decodeOptional decodes a JSON body into v when there is one.
func decodeOptional(r *http.Request, v any) error {
	if r.ContentLength == 0 {
		return nil
	}
	return httpapi.DecodeJSON(r, v)
}

// certFor decodes an optional JSON body into req, finds the certificate
// of the path's {ref} and names it as the audit target.
func (s *Service) certFor(r *http.Request, req any) (Certificate, error) {
	if req != nil {
		if err := decodeOptional(r, req); err != nil {
			return Certificate{}, err
		}
	}
	c, err := s.mgr.Lookup(r.Context(), r.PathValue("ref"))
	if err != nil {
		return c, apiError(err)
	}
	httpapi.SetAuditTarget(r, certTarget(c))
	return c, nil
}
