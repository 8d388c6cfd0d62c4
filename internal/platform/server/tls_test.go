package server_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/internal/platform/server"
	"github.com/gaffer-sre/gaffer/internal/platform/tlsca"
)

var tlsStreamRelease = make(chan struct{})

type tlsStreamService struct{}

func (tlsStreamService) Start(context.Context) error  { return nil }
func (tlsStreamService) Stop(context.Context) error   { return nil }
func (tlsStreamService) Health(context.Context) error { return nil }
func (tlsStreamService) Routes(r *httpapi.Router) {
	r.Handle(httpapi.Route{Method: "GET", Path: "/api/v1/tlsstreamtest/stream", Scope: "tlsstreamtest:read",
		Summary: "stream", Streaming: true,
		Handler: func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprint(w, ": open\n\n")
			http.NewResponseController(w).Flush()
			select {
			case <-tlsStreamRelease:
				fmt.Fprint(w, "data: still here\n\n")
			case <-r.Context().Done():
			}
			return nil
		}})
}

func init() {
	platform.Register(platform.Module{Name: "tlsstreamtest", New: func(ctx context.Context, d *platform.Deps) (platform.Service, error) {
		return tlsStreamService{}, nil
	}})
}

// TestTLSStreamOutlivesTimeouts: under --tls the API is served over
// HTTP/2, and a server-sent-event stream is still exempt from the write
// timeout there.
func TestTLSStreamOutlivesTimeouts(t *testing.T) {
	const timeout = 300 * time.Millisecond
	srv := platformtest.Start(t, platformtest.Options{Configure: func(c *server.Config) {
		c.TLS = true
		c.HTTPReadHeaderTimeout, c.HTTPReadTimeout, c.HTTPWriteTimeout, c.HTTPIdleTimeout = timeout, timeout, timeout, timeout
	}})
	pinned, err := tlsca.ClientConfig(filepath.Join(srv.DataDir, tlsca.CertFile))
	if err != nil {
		t.Fatal(err)
	}
	base := "https://" + strings.TrimPrefix(srv.URL, "http://")
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: pinned.Clone(), ForceAttemptHTTP2: true}}
	req, _ := http.NewRequest("GET", base+"/api/v1/tlsstreamtest/stream", nil)
	req.Header.Set("Authorization", "Bearer "+srv.Token("tlsstreamtest:read"))
	stream, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Body.Close()
	if stream.ProtoMajor != 2 {
		t.Fatalf("stream over %s, want HTTP/2", stream.Proto)
	}
	events := bufio.NewReader(stream.Body)
	if line, err := events.ReadString('\n'); err != nil || line != ": open\n" {
		t.Fatalf("stream opened with %q, %v", line, err)
	}

	// An idle connection opened after the stream is closed after the idle
	// timeout, equal to the write timeout: the stream has outlived it.
	h1 := pinned.Clone()
	h1.NextProtos = []string{"http/1.1"}
	idle, err := tls.Dial("tcp", strings.TrimPrefix(base, "https://"), h1)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	fmt.Fprintf(idle, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(idle), nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	waitClosed(t, idle, "idle TLS connection")

	close(tlsStreamRelease)
	for {
		line, err := events.ReadString('\n')
		if err != nil {
			t.Fatalf("stream after the timeouts: %v", err)
		}
		if line == "data: still here\n" {
			return
		}
	}
}

func TestTLSNamesNeedGaffersCA(t *testing.T) {
	for _, c := range []server.Config{{TLSNames: []string{"a.example"}},
		{TLS: true, TLSCert: "c.pem", TLSKey: "k.pem", TLSNames: []string{"a.example"}}} {
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "tls-names") {
			t.Errorf("%+v: %v", c, err)
		}
	}
	ok := server.Config{TLS: true, TLSNames: []string{"a.example"}}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestTLSHostNames(t *testing.T) {
	c := server.Config{Listen: "0.0.0.0:7070", NATSListen: "gaffer.lan:7422", TLSNames: []string{"extra.example"}}
	got := strings.Join(c.TLSHostNames(), " ")
	host, _ := os.Hostname()
	for _, want := range []string{"localhost", "127.0.0.1", "::1", "gaffer.lan", "extra.example", host} {
		if !strings.Contains(" "+got+" ", " "+want+" ") {
			t.Errorf("names %q lack %q", got, want)
		}
	}
	if strings.Contains(got, "0.0.0.0") {
		t.Errorf("names %q hold the unspecified address", got)
	}
}
