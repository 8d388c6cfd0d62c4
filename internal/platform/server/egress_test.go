package server_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gaffer-sre/gaffer/internal/platform/egress"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/internal/platform/server"
)

// TestEgressPolicyReachesDeps: --egress-allow entries reach Deps.Egress,
// which opens what they name, and the server's own HTTP and NATS
// listeners stay refused although loopback is allowed.
func TestEgressPolicyReachesDeps(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") }))
	defer target.Close()

	closed := platformtest.Start(t, platformtest.Options{})
	if _, err := closed.Deps().Egress.Client(egress.ClientOptions{}).Get(target.URL); !isDenied(err, "loopback") {
		t.Errorf("default policy, loopback test server: %v, want refused as loopback", err)
	}

	srv := platformtest.Start(t, platformtest.Options{EgressAllow: platformtest.AllowLoopback})
	client := srv.Deps().Egress.Client(egress.ClientOptions{})
	resp, err := client.Get(target.URL)
	if err != nil {
		t.Fatalf("loopback allowed: %v", err)
	}
	resp.Body.Close()

	if _, err := client.Get(srv.URL + "/healthz"); !isDenied(err, "own listeners") {
		t.Errorf("own HTTP listener: %v, want refused as Gaffer's own", err)
	}
	if u, err := url.Parse(srv.Deps().Bus.ClientURL); err == nil && u.Host != "" {
		if _, err := client.Get("http://" + u.Host + "/"); !isDenied(err, "own listeners") {
			t.Errorf("own NATS listener %s: %v, want refused as Gaffer's own", u.Host, err)
		}
	} else {
		t.Errorf("the test server has no NATS listener address: %q", srv.Deps().Bus.ClientURL)
	}
}

func TestBadEgressAllowIsRefusedAtStart(t *testing.T) {
	cfg := server.Config{DataDir: t.TempDir(), EgressAllow: []string{"10.0.0.0/8", "not a host"}}
	_, err := server.New(context.Background(), cfg, nil, false)
	if err == nil || !strings.Contains(err.Error(), `egress-allow "not a host"`) {
		t.Fatalf("bad entry: %v, want an error naming egress-allow and the entry", err)
	}
}

func isDenied(err error, reason string) bool {
	var de *egress.DeniedError
	return errors.As(err, &de) && strings.Contains(de.Error(), reason)
}
