package egress

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"
)

// DialContext connects to addr (host:port) over network ("tcp", "tcp4",
// "tcp6") if the policy allows the address the host resolves to; the check
// runs on each address as the socket connects, after DNS, so it cannot be
// raced. timeout bounds the connection (0: only ctx).
func (p *Policy) DialContext(ctx context.Context, network, addr string, timeout time.Duration) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("egress: address %q: %w", addr, err)
	}
	d := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second,
		Control: func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("egress: dialled address %q: %w", address, err)
			}
			return p.Check(host, ap)
		}}
	conn, err := d.DialContext(ctx, network, addr)
	if err != nil {
		var de *DeniedError
		if errors.As(err, &de) {
			return nil, de // without the "dial tcp ...: " wrapping, which repeats the address
		}
		return nil, err
	}
	return conn, nil
}

// Dialer returns a dial function with the signature of
// http.Transport.DialContext, connecting within timeout under the policy.
func (p *Policy) Dialer(timeout time.Duration) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		return p.DialContext(ctx, network, addr, timeout)
	}
}

// ClientOptions shape a client from Policy.Client.
type ClientOptions struct {
	// Timeout bounds a whole exchange, redirects and reading the body
	// included (0: no bound but the request's context).
	Timeout time.Duration
	// MaxRedirects is how many redirects are followed, each to an address
	// the policy allows (0: none; the 3xx answer is returned as it is).
	MaxRedirects int
	// TLS configures TLS (extra roots, client certificates); nil uses the
	// system's roots.
	TLS *tls.Config
	// MaxIdleConnsPerHost is how many kept-alive connections to one target
	// are kept (0: Go's default, 2).
	MaxIdleConnsPerHost int
	// DisableKeepAlives uses each connection for one request only.
	DisableKeepAlives bool
}

// Client returns an HTTP client whose every connection, redirects
// included, goes to an address the policy allows. It uses no proxy: a
// proxy would make the check see the proxy's address instead of the
// target's.
func (p *Policy) Client(o ClientOptions) *http.Client {
	tr := &http.Transport{
		DialContext:           p.Dialer(30 * time.Second),
		TLSClientConfig:       o.TLS,
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   10 * time.Second,
		MaxIdleConns:          512,
		MaxIdleConnsPerHost:   o.MaxIdleConnsPerHost,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
		DisableKeepAlives:     o.DisableKeepAlives,
	}
	max := o.MaxRedirects
	return &http.Client{Transport: tr, Timeout: o.Timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > max {
				return http.ErrUseLastResponse
			}
			if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
				return fmt.Errorf("egress: redirect to %s: only http and https are followed", req.URL.Scheme)
			}
			return nil
		}}
}

// ErrTooLarge is returned by ReadAll for a body over its limit.
var ErrTooLarge = errors.New("egress: answer is larger than the limit")

// ReadAll reads r to its end if it holds at most max bytes, and returns
// an error wrapping ErrTooLarge without reading further when it holds
// more.
func ReadAll(r io.Reader, max int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return b, err
	}
	if int64(len(b)) > max {
		return b[:max], fmt.Errorf("%w of %d bytes", ErrTooLarge, max)
	}
	return b, nil
}

// ExcerptLen is the most bytes of a remote answer an error quotes.
const ExcerptLen = 120

// Excerpt returns at most ExcerptLen bytes of an answer for an error
// message: valid UTF-8, control characters as spaces, "…" when cut.
func Excerpt(b []byte) string {
	cut := false
	if len(b) > ExcerptLen {
		b, cut = b[:ExcerptLen], true
		for len(b) > 0 && !utf8.Valid(b) && len(b) > ExcerptLen-utf8.UTFMax {
			b = b[:len(b)-1]
		}
	}
	out := make([]rune, 0, len(b))
	for _, r := range string(b) {
		if unicode.IsControl(r) || r == utf8.RuneError {
			r = ' '
		}
		out = append(out, r)
	}
	s := string(out)
	if cut {
		s += "…"
	}
	return s
}
