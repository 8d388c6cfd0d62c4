package bus_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/gaffer-sre/gaffer/internal/platform/bus"
)

// TestClientAuthGrantsOnlyItsSubjects connects clients through a
// registered ClientAuth and checks that each may use only the subjects it
// was granted, that refused credentials cannot connect, and that
// DisconnectUser closes a granted connection.
func TestClientAuthGrantsOnlyItsSubjects(t *testing.T) {
	ctx := context.Background()
	b, err := bus.Open(ctx, bus.Options{DataDir: t.TempDir(), Listen: "127.0.0.1:0", MaxAge: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	err = b.HandleClientAuth("agent:", func(c bus.ClientCredentials) (*bus.ClientGrant, error) {
		if c.Password != "good-"+c.User {
			return nil, errors.New("bad password")
		}
		name := strings.TrimPrefix(c.User, "agent:")
		return &bus.ClientGrant{Name: c.User, Publish: []string{"up." + name + ".>"},
			Subscribe: []string{"down." + name + ".>"}, Responses: true}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(b.ClientURL)
	addr := "nats://" + u.Host
	connect := func(user, pass string) (*nats.Conn, chan error, error) {
		errs := make(chan error, 10)
		nc, err := nats.Connect(addr, nats.UserInfo(user, pass), nats.MaxReconnects(0),
			nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))
		return nc, errs, err
	}
	if _, _, err := connect("agent:a", "wrong"); err == nil {
		t.Fatal("wrong password: connected")
	}
	if _, _, err := connect("someone", "good-someone"); err == nil {
		t.Fatal("user without a registered prefix: connected")
	}
	if _, _, err := connect("gaffer", "not-the-secret"); err == nil {
		t.Fatal("internal user with a wrong secret: connected")
	}
	a, aErrs, err := connect("agent:a", "good-agent:a")
	if err != nil {
		t.Fatalf("granted client: %v", err)
	}
	defer a.Close()

	// Its own subjects work, through the internal connection.
	got := make(chan string, 4)
	sub, _ := b.Conn.Subscribe("up.a.hello", func(m *nats.Msg) { got <- string(m.Data) })
	defer sub.Unsubscribe()
	b.Conn.Flush()
	mine, err := a.SubscribeSync("down.a.cmd")
	if err != nil {
		t.Fatal(err)
	}
	a.Flush()
	a.Publish("up.a.hello", []byte("hi"))
	a.Flush()
	select {
	case m := <-got:
		if m != "hi" {
			t.Fatalf("got %q", m)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("publish on a granted subject did not arrive")
	}
	b.Conn.Publish("down.a.cmd", []byte("x"))
	if _, err := mine.NextMsg(5 * time.Second); err != nil {
		t.Fatalf("granted subscription: %v", err)
	}

	// Another client's subjects and the event stream are refused.
	for _, subject := range []string{"down.b.cmd", "gaffer.>", "$JS.API.>"} {
		if _, err := a.SubscribeSync(subject); err != nil {
			t.Fatalf("subscribe %s: %v", subject, err)
		}
		a.Flush()
		select {
		case err := <-aErrs:
			if !strings.Contains(err.Error(), "Permissions Violation") {
				t.Fatalf("subscribe %s: %v", subject, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("subscribe %s: no permissions violation", subject)
		}
	}
	a.Publish("up.b.hello", []byte("spoof"))
	a.Flush()
	select {
	case err := <-aErrs:
		if !strings.Contains(err.Error(), "Permissions Violation") {
			t.Fatalf("publish as b: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("publish on another client's subject: no permissions violation")
	}

	if n := b.DisconnectUser("agent:a"); n != 1 {
		t.Fatalf("DisconnectUser closed %d connections, want 1", n)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !a.IsClosed() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !a.IsClosed() {
		t.Fatal("connection still open after DisconnectUser")
	}
	// The internal connection is unaffected.
	if err := b.Healthy(); err != nil {
		t.Fatal(err)
	}
}
