package auth

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/store/storetest"
)

// testClock is a clock a test moves by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestSessionEndsAtEarliestOfLifetimeExpiryRevocation is issue #15 item
// 10: a session opened with a 3 s token must not work after 5 s.
func TestSessionEndsAtEarliestOfLifetimeExpiryRevocation(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			clock := &testClock{t: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}
			tokens, err := NewTokens(ctx, b.Open(t), clock.Now)
			if err != nil {
				t.Fatal(err)
			}
			login := func(ttl time.Duration) (Token, *Session) {
				t.Helper()
				tok, secret, err := tokens.Create(ctx, CreateRequest{Name: "t", Scopes: []string{"events:read"}, TTL: ttl})
				if err != nil {
					t.Fatal(err)
				}
				sess, err := tokens.Login(ctx, secret)
				if err != nil {
					t.Fatal(err)
				}
				return tok, sess
			}
			live := func(s *Session) bool {
				t.Helper()
				_, err := tokens.Session(ctx, s.ID)
				if err != nil && !errors.Is(err, ErrInvalidToken) {
					t.Fatal(err)
				}
				return err == nil
			}

			// The token's expiry ends the session.
			_, short := login(3 * time.Second)
			if want := clock.Now().Add(3 * time.Second); !short.ExpiresAt.Equal(want) {
				t.Fatalf("session of a 3 s token expires at %v, want %v", short.ExpiresAt, want)
			}
			// Its own lifetime ends a session whose token lives longer.
			_, long := login(30 * 24 * time.Hour)
			// Revocation ends a session at once.
			revokedTok, revoked := login(0)
			_, forever := login(0)

			clock.Advance(2 * time.Second)
			for name, s := range map[string]*Session{"3s": short, "30d": long, "revoked": revoked, "no expiry": forever} {
				if !live(s) {
					t.Fatalf("%s session ended after 2 s", name)
				}
			}
			if err := tokens.Revoke(ctx, revokedTok.ID); err != nil {
				t.Fatal(err)
			}
			if live(revoked) {
				t.Fatal("session still works after its token was revoked")
			}
			clock.Advance(3 * time.Second) // 5 s after login
			if live(short) {
				t.Fatal("session of a 3 s token still works after 5 s")
			}
			if !live(long) || !live(forever) {
				t.Fatal("sessions of longer-lived tokens ended after 5 s")
			}
			clock.Advance(SessionTTL)
			if live(long) || live(forever) {
				t.Fatal("sessions outlived SessionTTL")
			}
		})
	}
}

// TestSessionReadsTokenExpiry checks that a session stored with a later
// expiry than its token's (as sessions were before issue #15 item 10)
// still ends when the token does.
func TestSessionReadsTokenExpiry(t *testing.T) {
	ctx := context.Background()
	clock := &testClock{t: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}
	st := storetest.SQLite(t)
	tokens, err := NewTokens(ctx, st, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	_, secret, err := tokens.Create(ctx, CreateRequest{Name: "t", Scopes: []string{"events:read"}, TTL: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	sess, err := tokens.Login(ctx, secret)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.ExecContext(ctx, "UPDATE auth_sessions SET expires_at = ?",
		clock.Now().Add(SessionTTL).UnixMilli()); err != nil {
		t.Fatal(err)
	}
	clock.Advance(5 * time.Second)
	if _, err := tokens.Session(ctx, sess.ID); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("session of an expired token: %v, want ErrInvalidToken", err)
	}
}
