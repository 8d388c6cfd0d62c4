// Package webhook is the HTTP provider: each provider call is a POST of
// JSON to the user's own automation, which changes their infrastructure
// (cloud auto-scaling groups, load balancer registration, DNS or edge
// proxy weights) however it likes.
//
// Calls and their answers, relative to the configured base URL:
//
//	POST /scale     {"call":{...},"targets":[{"cluster":"api-us-east-1","desired":40}]}
//	POST /status    {"call":{...},"clusters":["api-us-east-1"]} → {"clusters":[ClusterStatus...]}
//	POST /ungate    {"call":{...},"targets":[{"cluster":"api-us-east-1","dark":0}]}
//	POST /dark      {"call":{...},"targets":[{"cluster":"api-us-east-1","dark":12}]}
//	POST /steer     {"call":{...},"steering":{"layer":"edge","weights":{"na-east":{"us-west-2":1}}}}
//	POST /steering  {"call":{...}} → {"edge_propagated":true,"dns_propagated":false,"served":{...}}
//
// Every target is absolute, so a repeated call is harmless; the
// Idempotency-Key header carries the call's key. With a secret, the body is
// signed: X-Gaffer-Signature: sha256=<hex HMAC-SHA256 of the body>, and
// X-Gaffer-Timestamp holds the Unix time the signature covers (the
// signature is of timestamp + "." + body).
//
// Any 2xx is success. 409 with error code "capacity" means the
// infrastructure has no room (permanent); other 4xx answers (but 408 and
// 429) and redirects (which are not followed) are permanent failures; 5xx,
// 408, 429 and network errors are transient, retried by the execution.
//
// Calls dial through the server's egress policy: a URL on a loopback,
// link-local or private address fails permanently unless an operator
// allowed it with --egress-allow. Answers are read up to MaxAnswerBytes
// (plus MaxStatusBytesPerCluster per cluster of a status call), and an
// error quotes at most a short excerpt of one.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gaffer-sre/gaffer/demand/failover/provider"
	"github.com/gaffer-sre/gaffer/internal/platform/egress"
)

// Provider calls a webhook.
type Provider struct {
	// URL is the base URL, without a trailing slash.
	URL string
	// Secret signs requests when set.
	Secret []byte
	// Client makes the calls (see NewClient).
	Client *http.Client
	// Timeout bounds each call.
	Timeout time.Duration
	// Now is the clock of signatures (default time.Now).
	Now func() time.Time
}

var _ provider.Provider = (*Provider)(nil)

// Answer size limits: MaxAnswerBytes for any answer, and as much again as
// MaxStatusBytesPerCluster for each cluster a status call asks about (a
// fleet may have 100,000 clusters).
const (
	MaxAnswerBytes           = 1 << 20
	MaxStatusBytesPerCluster = 1 << 10
)

// NewClient returns the client providers share: connections dial through
// the egress policy p (nil: the default policy), and redirects are not
// followed (a moved automation endpoint is a fleet to fix, and following
// would send the signed body elsewhere).
func NewClient(p *egress.Policy) *http.Client {
	return p.Client(egress.ClientOptions{MaxIdleConnsPerHost: 16})
}

// New returns a provider for url with the given secret and per-call
// timeout (default 30s), calling through client (nil: a client of the
// default egress policy, which refuses loopback, link-local and private
// addresses).
func New(url string, secret []byte, timeout time.Duration, client *http.Client) *Provider {
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	if client == nil {
		client = NewClient(nil)
	}
	return &Provider{URL: strings.TrimRight(url, "/"), Secret: secret, Client: client, Timeout: timeout}
}

// Simulated implements provider.Provider: webhooks run in wall time.
func (p *Provider) Simulated() bool { return false }

type targetsBody[T any] struct {
	Call    provider.Call `json:"call"`
	Targets []T           `json:"targets"`
}

// Scale implements provider.Scaler.
func (p *Provider) Scale(ctx context.Context, c provider.Call, targets []provider.ScaleTarget) error {
	return p.post(ctx, "/scale", c.Key, targetsBody[provider.ScaleTarget]{c, targets}, nil, MaxAnswerBytes)
}

// Status implements provider.Scaler.
func (p *Provider) Status(ctx context.Context, c provider.Call, clusters []string) ([]provider.ClusterStatus, error) {
	var out struct {
		Clusters []provider.ClusterStatus `json:"clusters"`
	}
	body := struct {
		Call     provider.Call `json:"call"`
		Clusters []string      `json:"clusters"`
	}{c, clusters}
	limit := int64(MaxAnswerBytes) + int64(len(clusters))*MaxStatusBytesPerCluster
	if err := p.post(ctx, "/status", c.Key, body, &out, limit); err != nil {
		return nil, err
	}
	got := map[string]bool{}
	for _, s := range out.Clusters {
		got[s.Cluster] = true
	}
	for _, name := range clusters {
		if !got[name] {
			return nil, fmt.Errorf("webhook %s/status: no status for cluster %q", p.URL, name)
		}
	}
	return out.Clusters, nil
}

// Ungate implements provider.Gate.
func (p *Provider) Ungate(ctx context.Context, c provider.Call, targets []provider.GateTarget) error {
	return p.post(ctx, "/ungate", c.Key, targetsBody[provider.GateTarget]{c, targets}, nil, MaxAnswerBytes)
}

// SizeDark implements provider.Gate.
func (p *Provider) SizeDark(ctx context.Context, c provider.Call, targets []provider.GateTarget) error {
	return p.post(ctx, "/dark", c.Key, targetsBody[provider.GateTarget]{c, targets}, nil, MaxAnswerBytes)
}

// Steer implements provider.Steerer.
func (p *Provider) Steer(ctx context.Context, c provider.Call, s provider.Steering) error {
	body := struct {
		Call     provider.Call     `json:"call"`
		Steering provider.Steering `json:"steering"`
	}{c, s}
	return p.post(ctx, "/steer", c.Key, body, nil, MaxAnswerBytes)
}

// SteeringStatus implements provider.Steerer.
func (p *Provider) SteeringStatus(ctx context.Context, c provider.Call) (provider.SteeringStatus, error) {
	var out provider.SteeringStatus
	body := struct {
		Call provider.Call `json:"call"`
	}{c}
	err := p.post(ctx, "/steering", c.Key, body, &out, MaxAnswerBytes)
	return out, err
}

// Sign returns the signature header value of body at unix time ts.
func Sign(secret []byte, ts int64, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(strconv.FormatInt(ts, 10) + "."))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a request's signature against secret; receivers use it.
func Verify(secret []byte, r *http.Request, body []byte, maxAge time.Duration) error {
	ts, err := strconv.ParseInt(r.Header.Get("X-Gaffer-Timestamp"), 10, 64)
	if err != nil {
		return errors.New("webhook: missing or bad X-Gaffer-Timestamp")
	}
	if d := time.Since(time.Unix(ts, 0)); d > maxAge || d < -maxAge {
		return fmt.Errorf("webhook: timestamp %d is more than %v away", ts, maxAge)
	}
	if !hmac.Equal([]byte(Sign(secret, ts, body)), []byte(r.Header.Get("X-Gaffer-Signature"))) {
		return errors.New("webhook: bad signature")
	}
	return nil
}

// post sends one call and decodes its answer into out, reading at most
// limit bytes of it.
func (p *Provider) post(ctx context.Context, path, key string, body, out any, limit int64) error {
	if p.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.Timeout)
		defer cancel()
	}
	b, err := json.Marshal(body)
	if err != nil {
		return provider.Permanent(fmt.Errorf("webhook %s: encode: %w", path, err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.URL+path, bytes.NewReader(b))
	if err != nil {
		return provider.Permanent(fmt.Errorf("webhook %s: %w", path, err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "gaffer-failover")
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	if len(p.Secret) > 0 {
		now := time.Now
		if p.Now != nil {
			now = p.Now
		}
		ts := now().Unix()
		req.Header.Set("X-Gaffer-Timestamp", strconv.FormatInt(ts, 10))
		req.Header.Set("X-Gaffer-Signature", Sign(p.Secret, ts, b))
	}
	resp, err := p.Client.Do(req)
	if de := (*egress.DeniedError)(nil); errors.As(err, &de) {
		return provider.Permanent(fmt.Errorf("webhook POST %s%s: %w", p.URL, path, de))
	}
	if err != nil {
		return fmt.Errorf("webhook POST %s%s: %w", p.URL, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		return provider.Permanent(fmt.Errorf("webhook POST %s%s: %d %s to %s: redirects are not followed; fix provider.webhook.url",
			p.URL, path, resp.StatusCode, http.StatusText(resp.StatusCode), egress.Excerpt([]byte(resp.Header.Get("Location")))))
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		head, _ := io.ReadAll(io.LimitReader(resp.Body, MaxAnswerBytes))
		return answerError(p.URL+path, resp.StatusCode, head)
	}
	if out == nil {
		return nil
	}
	data, err := egress.ReadAll(resp.Body, limit)
	if err != nil {
		return fmt.Errorf("webhook POST %s%s: read answer: %w", p.URL, path, err)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("webhook POST %s%s: answer is not the expected JSON: %w", p.URL, path, err)
	}
	return nil
}

func answerError(url string, status int, body []byte) error {
	var env struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	msg := egress.Excerpt(bytes.TrimSpace(body))
	if json.Unmarshal(body, &env) == nil && env.Error.Message != "" {
		msg = egress.Excerpt([]byte(env.Error.Message))
	}
	err := fmt.Errorf("webhook POST %s: %d %s: %s", url, status, http.StatusText(status), msg)
	switch {
	case status == http.StatusConflict && env.Error.Code == "capacity":
		return fmt.Errorf("%w: %w", err, provider.ErrCapacity)
	case status >= 400 && status < 500 && status != http.StatusRequestTimeout && status != http.StatusTooManyRequests:
		return provider.Permanent(err)
	}
	return err
}
