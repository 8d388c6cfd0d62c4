package certs

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gaffer-sre/gaffer/internal/platform/egress"
)

// rawResponder answers every connection on a loopback port with reply
// and returns the port. An HTTP reply is sent after the request's head
// has been read, as a web server would; anything else at once, as a
// service that speaks first (SSH, SMTP) does.
func rawResponder(t *testing.T, reply string) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				if strings.HasPrefix(reply, "HTTP/") {
					rd := bufio.NewReader(conn)
					for {
						line, err := rd.ReadString('\n')
						if err != nil || line == "\r\n" {
							break
						}
					}
				}
				io.WriteString(conn, reply)
				conn.(*net.TCPConn).CloseWrite()
				io.Copy(io.Discard, conn)
			}()
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}

// loopbackValidator is a validator whose egress policy lets it reach the
// test responders on 127.0.0.1.
func loopbackValidator(t *testing.T, s *Settings) *acmeValidator {
	t.Helper()
	v := newACMEValidator(s)
	p, err := egress.Parse([]string{"127.0.0.0/8"})
	if err != nil {
		t.Fatal(err)
	}
	v.egress = p
	return v
}

// TestChallengeEgressPolicy: under the default policy a challenge whose
// identifier leads to a loopback or link-local address fails with a
// connection problem naming the policy, and nothing is fetched.
func TestChallengeEgressPolicy(t *testing.T) {
	var accepted atomic.Int32
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			conn.Close()
		}
	}()
	port := l.Addr().(*net.TCPAddr).Port
	for _, c := range []struct{ resolveTo, typ, reason string }{
		{"127.0.0.1", "http-01", "loopback"}, {"127.0.0.1", "tls-alpn-01", "loopback"},
		{"169.254.169.254", "http-01", "link-local"}, {"10.0.0.1", "tls-alpn-01", "private"},
	} {
		v := newACMEValidator(&Settings{ACMEHTTPPort: port, ACMETLSPort: port, ACMEResolveTo: c.resolveTo})
		p := v.validate(context.Background(), c.typ, "app.example.test", "tok", "tok.thumbprint")
		if p == nil || p.Type != probConnection || !strings.Contains(p.Detail, "egress policy") || !strings.Contains(p.Detail, c.reason) {
			t.Errorf("%s at %s: problem %+v, want a connection problem naming the egress policy (%s)", c.typ, c.resolveTo, p, c.reason)
		}
	}
	if n := accepted.Load(); n != 0 {
		t.Fatalf("the loopback listener accepted %d connections under the default policy", n)
	}
}

// TestChallengeErrorsDoNotEchoTheFetchedBody has the validator fetch
// http-01 and tls-alpn-01 challenges from responders that answer with a
// secret in the body, the status line's reason phrase, or a raw service
// banner: the problem the ACME client sees carries the status code and a
// fixed message, never those bytes.
func TestChallengeErrorsDoNotEchoTheFetchedBody(t *testing.T) {
	const secret = "SECRET-d41d8cd98f00b204"
	cases := []struct {
		name, reply, typ, wantType, wantDetail string
	}{
		{"wrong body", "HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n" + secret + "-0123456789abcdef", "http-01",
			probIncorrectResp, "answered with a body that is not the key authorization"},
		{"error status with a body", "HTTP/1.1 404 Not Found\r\nContent-Length: 23\r\n\r\n" + secret, "http-01",
			probUnauthorized, "answered HTTP 404, want 200"},
		{"reason phrase", "HTTP/1.1 403 " + secret + "\r\nContent-Length: 0\r\n\r\n", "http-01",
			probUnauthorized, "answered HTTP 403, want 200"},
		{"service banner", "SSH-2.0-" + secret + "\r\n", "http-01",
			probConnection, "connection or protocol error"},
		{"banner on the TLS port", "220 " + secret + " ESMTP ready\r\n", "tls-alpn-01",
			probConnection, "connection or protocol error"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			port := rawResponder(t, c.reply)
			v := loopbackValidator(t, &Settings{ACMEHTTPPort: port, ACMETLSPort: port, ACMEResolveTo: "127.0.0.1"})
			p := v.validate(context.Background(), c.typ, "app.example.test", "tok", "tok.thumbprint")
			if p == nil {
				t.Fatal("validation passed")
			}
			if strings.Contains(p.Detail, secret) || strings.Contains(p.Detail, "SSH-2.0") || strings.Contains(p.Detail, "ESMTP") {
				t.Errorf("detail echoes what the responder sent: %q", p.Detail)
			}
			if p.Type != c.wantType || !strings.Contains(p.Detail, c.wantDetail) {
				t.Errorf("problem %s %q, want %s containing %q", p.Type, p.Detail, c.wantType, c.wantDetail)
			}
		})
	}
}

// TestChallengeConnectionRefused names a refused connection in a fixed
// phrase.
func TestChallengeConnectionRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	v := loopbackValidator(t, &Settings{ACMEHTTPPort: port, ACMEResolveTo: "127.0.0.1"})
	p := v.validate(context.Background(), "http-01", "app.example.test", "tok", "tok.thumbprint")
	if p == nil || p.Type != probConnection || p.Status != http.StatusBadRequest ||
		p.Detail != "http-01: fetch http://app.example.test/.well-known/acme-challenge/tok: connection refused" {
		t.Errorf("problem %+v", p)
	}
}
