package server_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/internal/platform/server"
)

// timeoutService has a server-sent-event stream and two slow routes that
// wait for the test to release them.
type timeoutService struct{ stopping <-chan struct{} }

var (
	timeoutEntered = make(chan string, 8)
	timeoutContext = make(chan string, 8)
	timeoutRelease = make(chan struct{})
)

func (timeoutService) Start(context.Context) error  { return nil }
func (timeoutService) Stop(context.Context) error   { return nil }
func (timeoutService) Health(context.Context) error { return nil }
func (s timeoutService) Routes(r *httpapi.Router) {
	r.Handle(httpapi.Route{Method: "GET", Path: "/api/v1/timeouttest/stream", Scope: "timeouttest:read",
		Summary: "stream", Streaming: true,
		Handler: func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprint(w, ": open\n\n")
			http.NewResponseController(w).Flush()
			select {
			case <-timeoutRelease:
				fmt.Fprint(w, "data: still here\n\n")
			case <-r.Context().Done():
			case <-s.stopping:
			}
			return nil
		}})
	slow := func(w http.ResponseWriter, r *http.Request) error {
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			return err
		}
		timeoutEntered <- r.Method
		select {
		case <-timeoutRelease:
		case <-s.stopping:
		case <-r.Context().Done():
		}
		timeoutContext <- fmt.Sprintf("%s: %v", r.Method, r.Context().Err())
		return httpapi.WriteJSON(w, http.StatusOK, map[string]string{"ok": "yes"})
	}
	r.Handle(httpapi.Route{Method: "GET", Path: "/api/v1/timeouttest/slow", Scope: "timeouttest:read", Summary: "slow", Handler: slow})
	r.Handle(httpapi.Route{Method: "POST", Path: "/api/v1/timeouttest/slow", Scope: "timeouttest:write", Summary: "slow", Handler: slow})
}

func init() {
	platform.Register(platform.Module{Name: "timeouttest", New: func(ctx context.Context, d *platform.Deps) (platform.Service, error) {
		return timeoutService{stopping: d.Stopping}, nil
	}})
}

// TestHTTPTimeouts is issue #15 item 11: an incomplete POST to /login is
// closed after the read timeout and an idle connection after the idle
// timeout; a handler that outlives the write timeout cannot answer, but
// its context is not cancelled by the read timeout once its request is
// read; a server-sent-event stream runs on past all of them.
func TestHTTPTimeouts(t *testing.T) {
	const timeout = 300 * time.Millisecond
	srv := platformtest.Start(t, platformtest.Options{Configure: func(c *server.Config) {
		c.HTTPReadHeaderTimeout, c.HTTPReadTimeout, c.HTTPWriteTimeout, c.HTTPIdleTimeout = timeout, timeout, timeout, timeout
	}})
	token := srv.Token("timeouttest:write")
	addr := strings.TrimPrefix(srv.URL, "http://")

	// A stream and two slow requests start before the incomplete POST.
	req, _ := http.NewRequest("GET", srv.URL+"/api/v1/timeouttest/stream", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	stream, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Body.Close()
	events := bufio.NewReader(stream.Body)
	for _, want := range []string{": open\n", "\n"} {
		if line, err := events.ReadString('\n'); err != nil || line != want {
			t.Fatalf("stream opened with %q, %v; want %q", line, err, want)
		}
	}
	slowAnswer := make(chan string, 2)
	for _, method := range []string{"GET", "POST"} {
		go func() {
			var body io.Reader
			if method == "POST" {
				body = strings.NewReader("a body")
			}
			req, _ := http.NewRequest(method, srv.URL+"/api/v1/timeouttest/slow", body)
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				slowAnswer <- method + ": " + err.Error()
				return
			}
			resp.Body.Close()
			slowAnswer <- fmt.Sprintf("%s: %d", method, resp.StatusCode)
		}()
	}
	for range 2 {
		select {
		case <-timeoutEntered:
		case s := <-slowAnswer:
			t.Fatalf("slow request ended early: %s", s)
		case <-time.After(20 * time.Second):
			t.Fatal("slow requests did not reach their handler")
		}
	}

	// The finding: a POST to /login whose body never completes.
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /login HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\n"+
		"Content-Length: 1000\r\n\r\ntoken=gft_", addr)
	waitClosed(t, conn, "incomplete POST")

	// A kept-alive connection that sends nothing more is closed too.
	idle, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	fmt.Fprintf(idle, "GET /healthz HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
	resp, err := http.ReadResponse(bufio.NewReader(idle), nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Close {
		t.Fatalf("healthz on a kept-alive connection: %d, close=%v", resp.StatusCode, resp.Close)
	}
	waitClosed(t, idle, "idle kept-alive connection")

	// Everything that started before the POST has outlived the timeouts
	// by now. The stream goes on; the slow handlers' contexts are alive,
	// but their answers come after the write deadline and are lost.
	close(timeoutRelease)
	if line, err := events.ReadString('\n'); err != nil || line != "data: still here\n" {
		t.Fatalf("stream after the timeouts: %q, %v", line, err)
	}
	for range 2 {
		if s := <-timeoutContext; !strings.HasSuffix(s, ": <nil>") {
			t.Errorf("slow handler's context after its request was read: %s", s)
		}
		if s := <-slowAnswer; strings.HasSuffix(s, ": 200") {
			t.Errorf("slow request answered after the write timeout: %s", s)
		}
	}
}

// waitClosed reads from conn until the server closes it, failing the test
// when that takes longer than a generous deadline.
func waitClosed(t *testing.T, conn net.Conn, what string) {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	_, err := io.Copy(io.Discard, conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("%s: the server kept the connection open", what)
	}
}
