package certs

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

// rawResponder answers every connection on a loopback port with reply,
// whatever was asked, and returns the port.
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
				io.WriteString(conn, reply)
				conn.(*net.TCPConn).CloseWrite()
				io.Copy(io.Discard, conn)
			}()
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
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
			v := newACMEValidator(&Settings{ACMEHTTPPort: port, ACMETLSPort: port, ACMEResolveTo: "127.0.0.1"})
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
	v := newACMEValidator(&Settings{ACMEHTTPPort: port, ACMEResolveTo: "127.0.0.1"})
	p := v.validate(context.Background(), "http-01", "app.example.test", "tok", "tok.thumbprint")
	if p == nil || p.Type != probConnection || p.Status != http.StatusBadRequest ||
		p.Detail != "http-01: fetch http://app.example.test/.well-known/acme-challenge/tok: connection refused" {
		t.Errorf("problem %+v", p)
	}
}
