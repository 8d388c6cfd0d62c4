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
// 429) are permanent failures; 5xx, 408, 429 and network errors are
// transient, retried by the execution.
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
)

// Provider calls a webhook.
type Provider struct {
	// URL is the base URL, without a trailing slash.
	URL string
	// Secret signs requests when set.
	Secret []byte
	// Client makes the calls; its Timeout bounds each.
	Client *http.Client
	// Now is the clock of signatures (default time.Now).
	Now func() time.Time
}

var _ provider.Provider = (*Provider)(nil)

// New returns a provider for url with the given secret and per-call
// timeout (default 30s).
func New(url string, secret []byte, timeout time.Duration) *Provider {
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	return &Provider{URL: strings.TrimRight(url, "/"), Secret: secret, Client: &http.Client{Timeout: timeout}}
}

// Simulated implements provider.Provider: webhooks run in wall time.
func (p *Provider) Simulated() bool { return false }

type targetsBody[T any] struct {
	Call    provider.Call `json:"call"`
	Targets []T           `json:"targets"`
}

// Scale implements provider.Scaler.
func (p *Provider) Scale(ctx context.Context, c provider.Call, targets []provider.ScaleTarget) error {
	return p.post(ctx, "/scale", c.Key, targetsBody[provider.ScaleTarget]{c, targets}, nil)
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
	if err := p.post(ctx, "/status", c.Key, body, &out); err != nil {
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
	return p.post(ctx, "/ungate", c.Key, targetsBody[provider.GateTarget]{c, targets}, nil)
}

// SizeDark implements provider.Gate.
func (p *Provider) SizeDark(ctx context.Context, c provider.Call, targets []provider.GateTarget) error {
	return p.post(ctx, "/dark", c.Key, targetsBody[provider.GateTarget]{c, targets}, nil)
}

// Steer implements provider.Steerer.
func (p *Provider) Steer(ctx context.Context, c provider.Call, s provider.Steering) error {
	body := struct {
		Call     provider.Call     `json:"call"`
		Steering provider.Steering `json:"steering"`
	}{c, s}
	return p.post(ctx, "/steer", c.Key, body, nil)
}

// SteeringStatus implements provider.Steerer.
func (p *Provider) SteeringStatus(ctx context.Context, c provider.Call) (provider.SteeringStatus, error) {
	var out provider.SteeringStatus
	body := struct {
		Call provider.Call `json:"call"`
	}{c}
	err := p.post(ctx, "/steering", c.Key, body, &out)
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

func (p *Provider) post(ctx context.Context, path, key string, body, out any) error {
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
	if err != nil {
		return fmt.Errorf("webhook POST %s%s: %w", p.URL, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("webhook POST %s%s: read answer: %w", p.URL, path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return answerError(p.URL+path, resp.StatusCode, data)
	}
	if out == nil {
		return nil
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
	msg := strings.TrimSpace(string(body))
	if json.Unmarshal(body, &env) == nil && env.Error.Message != "" {
		msg = env.Error.Message
	}
	if len(msg) > 300 {
		msg = msg[:300] + "…"
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
