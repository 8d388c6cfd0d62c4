package bus_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/gaffer-sre/gaffer/internal/platform/bus"
	"github.com/gaffer-sre/gaffer/internal/platform/bus/bustest"
)

func TestPublishIsDurableAndDeduplicated(t *testing.T) {
	for _, backend := range bustest.Backends(t) {
		t.Run(backend.Name, func(t *testing.T) {
			ctx := context.Background()
			b := backend.Open(t)
			ev := &bus.Event{ID: "e1", Source: "/test", Type: "gaffer.test.thing", Data: json.RawMessage(`{"n":1}`)}
			if _, err := b.Publish(ctx, ev); err != nil {
				t.Fatalf("publish: %v", err)
			}
			ack, err := b.Publish(ctx, ev)
			if err != nil {
				t.Fatalf("publish again: %v", err)
			}
			if !ack.Duplicate {
				t.Fatalf("second publish of the same id: want duplicate ack")
			}
			info, err := b.Stream.Info(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if info.State.Msgs != 1 {
				t.Fatalf("stream holds %d messages, want 1", info.State.Msgs)
			}
			msg, err := b.Stream.GetLastMsgForSubject(ctx, "gaffer.test.thing")
			if err != nil {
				t.Fatalf("get: %v", err)
			}
			got, err := bus.ParseEvent(msg.Data)
			if err != nil {
				t.Fatalf("stored event does not parse: %v", err)
			}
			if got.ID != "e1" || string(got.Data) != `{"n":1}` || got.Time.IsZero() {
				t.Fatalf("stored event = %+v", got)
			}
		})
	}
}

func TestEmbeddedReopensWithItsData(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	open := func() *bus.Bus {
		b, err := bus.Open(ctx, bus.Options{DataDir: dir, Listen: "127.0.0.1:0"})
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		return b
	}
	b := open()
	if _, err := b.Publish(ctx, &bus.Event{Source: "/t", Type: "gaffer.test.kept"}); err != nil {
		t.Fatal(err)
	}
	if _, err := bus.LocalURL(dir); err != nil {
		t.Fatalf("LocalURL: %v", err)
	}
	b.Close()
	b = open()
	defer b.Close()
	if _, err := b.Stream.GetLastMsgForSubject(ctx, "gaffer.test.kept"); err != nil {
		t.Fatalf("event lost across restart: %v", err)
	}
}
