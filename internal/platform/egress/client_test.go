package egress

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestClientRefusesLoopbackByNameAndAddress(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "secret") }))
	defer ts.Close()
	_, port, _ := net.SplitHostPort(ts.Listener.Addr().String())
	c := (*Policy)(nil).Client(ClientOptions{})
	for _, u := range []string{ts.URL, "http://localhost:" + port} {
		resp, err := c.Get(u)
		if err == nil {
			resp.Body.Close()
			t.Fatalf("%s: the default policy reached a loopback server", u)
		}
		var de *DeniedError
		if !errors.As(err, &de) || !strings.Contains(de.Reason, "loopback") {
			t.Errorf("%s: %v, want a loopback DeniedError", u, err)
		}
	}
	open, _ := Parse([]string{"127.0.0.1"})
	resp, err := open.Client(ClientOptions{}).Get(ts.URL)
	if err != nil {
		t.Fatalf("allowed loopback: %v", err)
	}
	resp.Body.Close()
}

// TestRedirectsAreCheckedAgain: a target the policy allows redirects to
// one it does not; the redirect is refused when it dials.
func TestRedirectsAreCheckedAgain(t *testing.T) {
	inner := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "metadata secret") }))
	defer inner.Close()
	outer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, inner.URL+"/latest/meta-data", http.StatusFound)
	}))
	defer outer.Close()
	p, err := Parse([]string{outer.Listener.Addr().String()}) // 127.0.0.1:port of the outer server only
	if err != nil {
		t.Fatal(err)
	}
	resp, err := p.Client(ClientOptions{MaxRedirects: 5}).Get(outer.URL)
	if err == nil {
		resp.Body.Close()
		t.Fatal("followed a redirect to a refused address")
	}
	var de *DeniedError
	if !errors.As(err, &de) {
		t.Fatalf("redirect: %v, want a DeniedError", err)
	}
	// Without redirects, the 3xx answer comes back as it is.
	resp, err = p.Client(ClientOptions{}).Get(outer.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Errorf("no-redirect client: status %d, want 302", resp.StatusCode)
	}
}

func TestReadAllBoundsTheBody(t *testing.T) {
	b, err := ReadAll(strings.NewReader("0123456789"), 10)
	if err != nil || string(b) != "0123456789" {
		t.Fatalf("exactly at the limit: %q %v", b, err)
	}
	b, err = ReadAll(strings.NewReader(strings.Repeat("x", 1<<20)), 100)
	if !errors.Is(err, ErrTooLarge) || len(b) != 100 {
		t.Fatalf("over the limit: %d bytes, %v", len(b), err)
	}
}

func TestExcerptIsShortAndPrintable(t *testing.T) {
	long := strings.Repeat("é", 200) + "\x00\nend"
	e := Excerpt([]byte(long))
	if !utf8.ValidString(e) || len(e) > ExcerptLen+len("…") || !strings.HasSuffix(e, "…") {
		t.Errorf("excerpt of a long answer: %d bytes %q", len(e), e)
	}
	if got := Excerpt([]byte("a\x00b\nc\xff")); got != "a b c " {
		t.Errorf("control characters and bad UTF-8: %q", got)
	}
}
