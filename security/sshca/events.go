package sshca

import (
	"context"
	"encoding/json"

	"github.com/gaffer-sre/gaffer/internal/platform/bus"
)

// CloudEvent types the SSH CA publishes (on NATS subjects of the same
// name), so that an events rule can, say, push the new KRL to hosts when
// something is revoked, or page someone when a CA rotates.
const (
	// EventRevoked carries a Revocation.
	EventRevoked = "gaffer.sshca.revoked"
	// EventRotated carries the CA after a rotation.
	EventRotated = "gaffer.sshca.rotated"
	// EventKeyRetired carries the CA after one of its keys was retired.
	EventKeyRetired = "gaffer.sshca.key_retired"
)

// publisher announces changes; the Service sets it to publish on the bus.
type publisher func(ctx context.Context, eventType, subject string, data any)

// busPublisher publishes on b. Publishing is best effort: the change is
// already stored, and servers read revocations from the KRL, not events.
func (s *Service) busPublisher(b *bus.Bus) publisher {
	return func(ctx context.Context, eventType, subject string, data any) {
		body, err := json.Marshal(data)
		if err == nil {
			_, err = b.Publish(context.WithoutCancel(ctx), &bus.Event{Source: "/gaffer/sshca", Type: eventType, Subject: subject, Data: body})
		}
		if err != nil {
			s.deps.Log.Warn("sshca: could not publish event", "type", eventType, "subject", subject, "error", err)
		}
	}
}

func (a *Authority) notify(ctx context.Context, eventType, subject string, data any) {
	if a.publish != nil {
		a.publish(ctx, eventType, subject, data)
	}
}
