package webhook_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/demand/failover/provider"
	"github.com/gaffer-sre/gaffer/demand/failover/webhook"
	"github.com/gaffer-sre/gaffer/internal/platform/egress"
)

// loopback is a client whose egress policy lets it reach the test
// receivers on 127.0.0.1.
func loopback(t *testing.T) *http.Client {
	t.Helper()
	p, err := egress.Parse([]string{"127.0.0.0/8"})
	if err != nil {
		t.Fatal(err)
	}
	return webhook.NewClient(p)
}

type recorded struct {
	path, key string
	body      map[string]any
}

// receiver answers like a user's automation and records each call,
// checking its signature.
func receiver(t *testing.T, secret []byte, answer func(path string, w http.ResponseWriter)) (*httptest.Server, *[]recorded) {
	var mu sync.Mutex
	calls := &[]recorded{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Method != "POST" || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s %s with %q", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
		}
		if secret == nil {
			if r.Header.Get("X-Gaffer-Signature") != "" {
				t.Errorf("%s: signed without a secret", r.URL.Path)
			}
		} else if err := webhook.Verify(secret, r, body, time.Minute); err != nil {
			t.Errorf("%s: %v", r.URL.Path, err)
		}
		var m map[string]any
		json.Unmarshal(body, &m)
		mu.Lock()
		*calls = append(*calls, recorded{r.URL.Path, r.Header.Get("Idempotency-Key"), m})
		mu.Unlock()
		answer(r.URL.Path, w)
	}))
	t.Cleanup(srv.Close)
	return srv, calls
}

var call = provider.Call{At: time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC), Key: "ex_1/2#1"}

func TestCallsAndAnswers(t *testing.T) {
	secret := []byte("s3cret")
	srv, calls := receiver(t, secret, func(path string, w http.ResponseWriter) {
		switch path {
		case "/status":
			io.WriteString(w, `{"clusters":[{"cluster":"a","desired":5,"in_service":4,"pending":1,"healthy":true}]}`)
		case "/steering":
			io.WriteString(w, `{"edge_propagated":true,"dns_propagated":false,"served":{"east":1}}`)
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	})
	p := webhook.New(srv.URL+"/", secret, time.Second, loopback(t))
	ctx := context.Background()
	if p.Simulated() {
		t.Error("a webhook runs in wall time")
	}
	if err := p.Scale(ctx, call, []provider.ScaleTarget{{Cluster: "a", Desired: 5}}); err != nil {
		t.Fatal(err)
	}
	if err := p.Ungate(ctx, call, []provider.GateTarget{{Cluster: "a", Dark: 0}}); err != nil {
		t.Fatal(err)
	}
	if err := p.SizeDark(ctx, call, []provider.GateTarget{{Cluster: "a", Dark: 3}}); err != nil {
		t.Fatal(err)
	}
	if err := p.Steer(ctx, call, provider.Steering{Layer: "dns", Weights: provider.Weights{"g": {"east": 1}}}); err != nil {
		t.Fatal(err)
	}
	st, err := p.Status(ctx, call, []string{"a"})
	if err != nil || len(st) != 1 || st[0].InService != 4 || !st[0].Healthy {
		t.Fatalf("status %+v, %v", st, err)
	}
	ss, err := p.SteeringStatus(ctx, call)
	if err != nil || !ss.EdgePropagated || ss.DNSPropagated || ss.Served["east"] != 1 {
		t.Fatalf("steering %+v, %v", ss, err)
	}
	var paths []string
	for _, c := range *calls {
		paths = append(paths, c.path)
		if c.key != call.Key {
			t.Errorf("%s: Idempotency-Key %q", c.path, c.key)
		}
		if c.body["call"].(map[string]any)["key"] != call.Key {
			t.Errorf("%s: body %v", c.path, c.body)
		}
	}
	if got := strings.Join(paths, " "); got != "/scale /ungate /dark /steer /status /steering" {
		t.Errorf("paths %q", got)
	}
	if tg := (*calls)[0].body["targets"].([]any)[0].(map[string]any); tg["cluster"] != "a" || tg["desired"] != 5.0 {
		t.Errorf("scale body %v", (*calls)[0].body)
	}
	if st := (*calls)[3].body["steering"].(map[string]any); st["layer"] != "dns" {
		t.Errorf("steer body %v", (*calls)[3].body)
	}
}

func TestErrors(t *testing.T) {
	cases := []struct {
		status    int
		body      string
		permanent bool
		capacity  bool
	}{
		{409, `{"error":{"code":"capacity","message":"no m5.large left in us-east-1a"}}`, true, true},
		{409, `{"error":{"code":"busy","message":"another change is running"}}`, true, false},
		{400, `bad targets`, true, false},
		{404, ``, true, false},
		{408, ``, false, false},
		{429, `slow down`, false, false},
		{500, `oops`, false, false},
		{503, ``, false, false},
	}
	for _, c := range cases {
		srv, _ := receiver(t, nil, func(_ string, w http.ResponseWriter) {
			w.WriteHeader(c.status)
			io.WriteString(w, c.body)
		})
		err := webhook.New(srv.URL, nil, time.Second, loopback(t)).Scale(context.Background(), call, nil)
		if err == nil || provider.IsPermanent(err) != c.permanent || errors.Is(err, provider.ErrCapacity) != c.capacity {
			t.Errorf("%d %s: err = %v (permanent %v)", c.status, c.body, err, provider.IsPermanent(err))
		}
		if c.capacity && !strings.Contains(err.Error(), "no m5.large left") {
			t.Errorf("the message is lost: %v", err)
		}
	}
	// Bad answers and unreachable receivers are transient.
	srv, _ := receiver(t, nil, func(_ string, w http.ResponseWriter) { io.WriteString(w, `{"clusters": 3}`) })
	if _, err := webhook.New(srv.URL, nil, time.Second, loopback(t)).Status(context.Background(), call, []string{"a"}); err == nil || provider.IsPermanent(err) {
		t.Errorf("bad answer: %v", err)
	}
	srv, _ = receiver(t, nil, func(_ string, w http.ResponseWriter) { io.WriteString(w, `{"clusters": []}`) })
	if _, err := webhook.New(srv.URL, nil, time.Second, loopback(t)).Status(context.Background(), call, []string{"a"}); err == nil {
		t.Error("a status without the cluster asked for was accepted")
	}
	srv.Close()
	if err := webhook.New(srv.URL, nil, time.Second, loopback(t)).Scale(context.Background(), call, nil); err == nil || provider.IsPermanent(err) {
		t.Errorf("unreachable: %v", err)
	}
}

func TestVerifyRefusesForgeries(t *testing.T) {
	body := []byte(`{"a":1}`)
	r := httptest.NewRequest("POST", "/scale", nil)
	now := time.Now().Unix()
	r.Header.Set("X-Gaffer-Timestamp", strings.TrimSpace(jsonNumber(now)))
	r.Header.Set("X-Gaffer-Signature", webhook.Sign([]byte("k"), now, body))
	if err := webhook.Verify([]byte("k"), r, body, time.Minute); err != nil {
		t.Fatalf("genuine: %v", err)
	}
	if webhook.Verify([]byte("other"), r, body, time.Minute) == nil {
		t.Error("wrong key accepted")
	}
	if webhook.Verify([]byte("k"), r, []byte(`{"a":2}`), time.Minute) == nil {
		t.Error("changed body accepted")
	}
	old := now - 3600
	r.Header.Set("X-Gaffer-Timestamp", jsonNumber(old))
	r.Header.Set("X-Gaffer-Signature", webhook.Sign([]byte("k"), old, body))
	if webhook.Verify([]byte("k"), r, body, time.Minute) == nil {
		t.Error("replayed signature accepted")
	}
}

func jsonNumber(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// TestEgressPolicy: under the default policy a provider URL on loopback,
// link-local or private addresses fails permanently without reaching it.
func TestEgressPolicy(t *testing.T) {
	srv, calls := receiver(t, nil, func(_ string, w http.ResponseWriter) { w.WriteHeader(http.StatusNoContent) })
	for url, reason := range map[string]string{srv.URL: "loopback", "http://169.254.169.254": "link-local", "http://10.0.0.1": "private"} {
		err := webhook.New(url, nil, time.Second, nil).Scale(context.Background(), call, nil)
		var de *egress.DeniedError
		if !errors.As(err, &de) || !provider.IsPermanent(err) || !strings.Contains(err.Error(), reason) {
			t.Errorf("%s: %v, want a permanent refusal naming %s", url, err, reason)
		}
	}
	if len(*calls) != 0 {
		t.Fatalf("the receiver was reached %d times under the default policy", len(*calls))
	}
	if err := webhook.New(srv.URL, nil, time.Second, loopback(t)).Scale(context.Background(), call, nil); err != nil {
		t.Fatalf("loopback allowed: %v", err)
	}
}

// TestRedirectsAreNotFollowed: a redirect (here to a server the policy
// would allow) is a permanent failure naming the field to fix; the
// signed body goes nowhere else.
func TestRedirectsAreNotFollowed(t *testing.T) {
	elsewhere, calls := receiver(t, nil, func(_ string, w http.ResponseWriter) { w.WriteHeader(http.StatusNoContent) })
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	err := webhook.New(srv.URL, []byte("k"), time.Second, loopback(t)).Scale(context.Background(), call, nil)
	if err == nil || !provider.IsPermanent(err) || !strings.Contains(err.Error(), "redirects are not followed") ||
		!strings.Contains(err.Error(), "provider.webhook.url") {
		t.Fatalf("redirect: %v", err)
	}
	if len(*calls) != 0 {
		t.Fatal("the redirect was followed")
	}
}

// TestAnswersAreBounded: an answer over the limit is an error, not read
// on; an error answer is quoted as a short excerpt.
func TestAnswersAreBounded(t *testing.T) {
	huge := strings.Repeat("x", webhook.MaxAnswerBytes+webhook.MaxStatusBytesPerCluster+1)
	srv, _ := receiver(t, nil, func(path string, w http.ResponseWriter) {
		if path == "/status" {
			io.WriteString(w, `{"clusters":[{"cluster":"a","message":"`+huge+`"}]}`)
			return
		}
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, "\x1b[2J"+huge)
	})
	p := webhook.New(srv.URL, nil, 5*time.Second, loopback(t))
	if _, err := p.Status(context.Background(), call, []string{"a"}); !errors.Is(err, egress.ErrTooLarge) {
		t.Errorf("oversized status answer: %v", err)
	}
	err := p.Scale(context.Background(), call, nil)
	if err == nil || len(err.Error()) > 300 || strings.ContainsRune(err.Error(), '\x1b') || !strings.Contains(err.Error(), "400") {
		t.Errorf("error answer quoted as %d bytes: %.400q", len(err.Error()), err)
	}
}
