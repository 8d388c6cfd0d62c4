package certs

import (
	"context"
	"errors"
	"net"
	"os"
	"syscall"

	"github.com/gaffer-sre/gaffer/internal/platform/egress"
)

// connFailure describes why a validation connection failed in a fixed
// phrase. The underlying error is never shown to the ACME client: Go's
// HTTP and TLS errors can quote bytes the peer sent (a malformed status
// line, a service banner), and a challenge error must not turn the ACME
// server into a way to read what answers on an address.
func connFailure(err error) string {
	var dnsErr *net.DNSError
	var denied *egress.DeniedError
	switch {
	case errors.As(err, &denied):
		return "refused by this server's egress policy (" + denied.Reason + ")"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return "timed out"
	case errors.As(err, &dnsErr):
		return "could not resolve the name"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "host unreachable"
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return "timed out"
	}
	return "connection or protocol error"
}
