package bus

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// NewEventID returns a random event ID.
func NewEventID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Publish validates ev, fills in a missing ID and time, and stores it in
// the event stream. It returns once JetStream has acknowledged the event,
// so a nil error means the event is durable. Publishing the same source and
// ID twice within two minutes stores it once.
func (b *Bus) Publish(ctx context.Context, ev *Event) (*jetstream.PubAck, error) {
	if ev.ID == "" {
		ev.ID = NewEventID()
	}
	if ev.Time.IsZero() {
		ev.Time = time.Now().UTC()
	}
	if ev.SpecVersion == "" {
		ev.SpecVersion = "1.0"
	}
	if ev.Data != nil && ev.DataContentType == "" {
		ev.DataContentType = "application/json"
	}
	body, err := ev.MarshalJSON()
	if err != nil {
		return nil, err
	}
	if _, err := ParseEvent(body); err != nil {
		return nil, fmt.Errorf("publish event: %w", err)
	}
	msg := &nats.Msg{Subject: ev.NATSSubject(), Data: body, Header: nats.Header{}}
	msg.Header.Set("Content-Type", "application/cloudevents+json")
	msg.Header.Set("Ce-Type", ev.Type)
	msg.Header.Set("Ce-Source", ev.Source)
	ack, err := b.JS.PublishMsg(ctx, msg, jetstream.WithMsgID(ev.Source+"\x00"+ev.ID))
	if err != nil {
		return nil, fmt.Errorf("publish %s to %s: %w", ev.Type, msg.Subject, err)
	}
	return ack, nil
}
