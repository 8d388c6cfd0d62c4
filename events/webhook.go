package events

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/bus"
	"github.com/gaffer-sre/gaffer/internal/platform/egress"
)

// newWebhookClient returns the client webhooks are POSTed with, dialling
// through the egress policy: keep-alive connections to each target, and
// redirects not followed (a webhook that moved is a configuration error to
// see, not to paper over).
func newWebhookClient(p *egress.Policy) *http.Client {
	return p.Client(egress.ClientOptions{MaxIdleConnsPerHost: 128})
}

// deliveryError is a failed webhook attempt.
type deliveryError struct {
	// Permanent failures are not retried: the target answered that the
	// request itself is wrong (a 4xx other than 408 and 429, or a
	// redirect).
	Permanent bool
	Status    int
	Msg       string
}

func (e *deliveryError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("HTTP %d: %s", e.Status, e.Msg)
	}
	return e.Msg
}

func isPermanent(err error) bool {
	var de *deliveryError
	return errors.As(err, &de) && de.Permanent
}

// deliver POSTs the structured-mode CloudEvent body to target once.
func deliver(ctx context.Context, client *http.Client, target string, timeout time.Duration, body []byte,
	ruleID string, attempt int) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return &deliveryError{Permanent: true, Msg: "build request: " + err.Error()}
	}
	req.Header.Set("Content-Type", "application/cloudevents+json; charset=utf-8")
	req.Header.Set("User-Agent", "gaffer-events")
	req.Header.Set("X-Gaffer-Rule", ruleID)
	req.Header.Set("X-Gaffer-Delivery-Attempt", strconv.Itoa(attempt))
	resp, err := client.Do(req)
	if de := (*egress.DeniedError)(nil); errors.As(err, &de) {
		return &deliveryError{Permanent: true, Msg: de.Error()}
	}
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return &deliveryError{Msg: fmt.Sprintf("no answer within %s", timeout)}
		}
		return &deliveryError{Msg: err.Error()}
	}
	head, _ := io.ReadAll(io.LimitReader(resp.Body, egress.ExcerptLen+1))
	snippet := egress.Excerpt(head)
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return &deliveryError{Permanent: true, Status: resp.StatusCode,
			Msg: "redirected to " + egress.Excerpt([]byte(resp.Header.Get("Location"))) + " (redirects are not followed; fix the rule's url)"}
	case resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return &deliveryError{Status: resp.StatusCode, Msg: snippet}
	}
	return &deliveryError{Permanent: true, Status: resp.StatusCode, Msg: snippet}
}

// breaker remembers webhook hosts that just failed, so that events for
// them skip the first attempt made while the event is processed and go
// straight to the job queue: one dead or slow target must not hold up the
// stream for everyone else.
type breaker struct {
	cool time.Duration
	mu   sync.Mutex
	open map[string]time.Time
}

func newBreaker(cool time.Duration) *breaker {
	return &breaker{cool: cool, open: map[string]time.Time{}}
}

func hostOf(target string) string {
	if u, err := url.Parse(target); err == nil {
		return u.Host
	}
	return target
}

// allow reports whether an inline attempt at target may be made.
func (b *breaker) allow(target string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	until, ok := b.open[hostOf(target)]
	return !ok || time.Now().After(until)
}

func (b *breaker) failed(target string) {
	b.mu.Lock()
	b.open[hostOf(target)] = time.Now().Add(b.cool)
	b.mu.Unlock()
}

func (b *breaker) succeeded(target string) {
	h := hostOf(target)
	b.mu.Lock()
	if _, ok := b.open[h]; ok {
		delete(b.open, h)
	}
	b.mu.Unlock()
}

// webhookAction makes the first delivery attempt while the event is being
// processed (unless the target failed recently), and on a retryable
// failure hands the remaining attempts to the job queue. It returns an
// error only when neither the delivery nor the hand-over succeeded.
func (s *Service) webhookAction(ctx context.Context, r *compiledRule, a *compiledAction, ev *bus.Event) error {
	body, err := ev.MarshalJSON()
	if err != nil {
		return s.deadLetter(ctx, r, a, ev, 0, fmt.Errorf("encode event: %w", err))
	}
	prior := 0
	var cause error
	if s.breaker.allow(a.URL) {
		prior = 1
		cause = deliver(ctx, s.client, a.URL, min(a.timeout, s.settings.InlineAttempt), body, r.rule.ID, 1)
		if cause == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err() // shutting down: the event is redelivered
		}
		s.breaker.failed(a.URL)
		if isPermanent(cause) || a.attempts == 1 {
			return s.deadLetter(ctx, r, a, ev, 1, cause)
		}
	}
	args := webhookArgs{RuleID: r.rule.ID, RuleName: r.rule.Name, Action: a.index, URL: a.URL,
		TimeoutMS: a.timeout.Milliseconds(), BackoffMS: a.backoff.Milliseconds(), Attempts: a.attempts, Prior: prior,
		Event: body}
	if err := s.enqueueWebhook(ctx, args); err != nil {
		return fmt.Errorf("hand webhook for rule %s to the job queue: %w", r.rule.Name, err)
	}
	if cause != nil {
		s.log.Info("webhook failed; retrying as a job", "rule", r.rule.Name, "url", a.URL, "event", ev.ID, "error", cause)
	}
	return nil
}
