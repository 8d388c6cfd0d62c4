package agent

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"testing"
	"time"
)

// testKey is a fixed key, so that failures reproduce.
func testKey(seed byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
}

// at is a fixed clock.
func at(t time.Time) func() time.Time { return func() time.Time { return t } }

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestSignedRequests(t *testing.T) {
	key := testKey(1)
	signer := NewRequestSigner(key, at(t0))
	pub, err := ParseRequestKey(signer.PublicKey())
	if err != nil || !pub.Equal(key.Public()) {
		t.Fatalf("public key %q: %v", signer.PublicKey(), err)
	}
	run := RunRequest{Run: "r1", Action: "restart", Params: json.RawMessage(`{"unit":"nginx"}`)}
	sign := func(agentName, boot, verb string, body any) []byte {
		b, err := signer.Sign(agentName, boot, verb, body)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	good := sign("web-1", "boot1", VerbRun, run)

	// The request as signed is accepted once, with its body.
	v := NewRequestVerifier(pub, "web-1", time.Minute, at(t0.Add(30*time.Second)))
	body, err := v.Open(good, VerbRun, "boot1")
	if err != nil {
		t.Fatal(err)
	}
	var got RunRequest
	if json.Unmarshal(body, &got); got.Run != "r1" || string(got.Params) != `{"unit":"nginx"}` {
		t.Fatalf("body %s", body)
	}
	if _, err := v.Open(good, VerbRun, "boot1"); !errors.Is(err, ErrReplayed) {
		t.Fatalf("replayed: %v", err)
	}

	tampered := func(edit func(*SignedRequest)) []byte {
		var r SignedRequest
		json.Unmarshal(good, &r)
		edit(&r)
		b, _ := json.Marshal(r)
		return b
	}
	forger := NewRequestSigner(testKey(2), at(t0))
	for _, c := range []struct {
		name string
		data []byte
		verb string
		boot string
		now  time.Time
		want error
	}{
		{"plain run request", mustJSON(run), VerbRun, "boot1", t0, ErrUnsigned},
		{"not JSON", []byte("run r1"), VerbRun, "boot1", t0, ErrUnsigned},
		{"no signature", tampered(func(r *SignedRequest) { r.Sig = nil }), VerbRun, "boot1", t0, ErrUnsigned},
		{"signed by another key", forgerSign(t, forger, "web-1", "boot1", VerbRun, run), VerbRun, "boot1", t0, ErrBadSignature},
		{"other params", tampered(func(r *SignedRequest) { r.Body = mustJSON(RunRequest{Run: "r1", Action: "rm"}) }), VerbRun, "boot1", t0, ErrBadSignature},
		{"other agent named", tampered(func(r *SignedRequest) { r.Agent = "web-2" }), VerbRun, "boot1", t0, ErrBadSignature},
		{"other time", tampered(func(r *SignedRequest) { r.IssuedMS++ }), VerbRun, "boot1", t0, ErrBadSignature},
		{"short signature", tampered(func(r *SignedRequest) { r.Sig = r.Sig[:10] }), VerbRun, "boot1", t0, ErrBadSignature},
		{"for another agent", sign("web-2", "boot1", VerbRun, run), VerbRun, "boot1", t0, ErrMisdirected},
		{"a cancel sent as a run", sign("web-1", "boot1", VerbCancel, CancelRequest{Run: "r1"}), VerbRun, "boot1", t0, ErrMisdirected},
		{"an earlier life", sign("web-1", "boot0", VerbRun, run), VerbRun, "boot1", t0, ErrOtherBoot},
		{"any life, for a run", sign("web-1", "", VerbRun, run), VerbRun, "boot1", t0, ErrOtherBoot},
		{"too old", sign("web-1", "boot1", VerbRun, run), VerbRun, "boot1", t0.Add(61 * time.Second), ErrStale},
		{"from the future", sign("web-1", "boot1", VerbRun, run), VerbRun, "boot1", t0.Add(-61 * time.Second), ErrStale},
	} {
		v := NewRequestVerifier(pub, "web-1", time.Minute, at(c.now))
		if _, err := v.Open(c.data, c.verb, c.boot); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}

	// A status request names no life; any life answers it.
	st := sign("web-1", "", VerbStatus, StatusRequest{Runs: []string{"r1"}})
	if _, err := NewRequestVerifier(pub, "web-1", 0, at(t0)).Open(st, VerbStatus, ""); err != nil {
		t.Fatalf("status: %v", err)
	}
}

// TestRequestIDsForgotten: a request ID is remembered while the request
// could pass as fresh, and forgotten after.
func TestRequestIDsForgotten(t *testing.T) {
	key := testKey(1)
	now := t0
	clock := func() time.Time { return now }
	signer := NewRequestSigner(key, clock)
	v := NewRequestVerifier(key.Public().(ed25519.PublicKey), "h", time.Minute, clock)
	for i := 0; i < 100; i++ {
		b, _ := signer.Sign("h", "b", VerbRun, RunRequest{Run: "r"})
		if _, err := v.Open(b, VerbRun, "b"); err != nil {
			t.Fatal(err)
		}
	}
	old, _ := signer.Sign("h", "b", VerbRun, RunRequest{Run: "r"})
	v.Open(old, VerbRun, "b")
	now = now.Add(61 * time.Second)
	b, _ := signer.Sign("h", "b", VerbRun, RunRequest{Run: "r"})
	if _, err := v.Open(b, VerbRun, "b"); err != nil {
		t.Fatal(err)
	}
	if n := len(v.seen); n != 1 {
		t.Fatalf("%d request IDs remembered, want only the fresh one", n)
	}
	if _, err := v.Open(old, VerbRun, "b"); !errors.Is(err, ErrStale) {
		t.Fatalf("a forgotten request sent again: %v", err)
	}
}

func TestParseRequestKey(t *testing.T) {
	pub := testKey(3).Public().(ed25519.PublicKey)
	for _, bad := range []string{"", "ed25519:", "rsa:AAAA", "ed25519:!!!", "ed25519:AAAA", FormatRequestKey(pub) + "AA"} {
		if _, err := ParseRequestKey(bad); err == nil {
			t.Errorf("%q: accepted", bad)
		}
	}
	if k, err := ParseRequestKey(" " + FormatRequestKey(pub) + "\n"); err != nil || !k.Equal(pub) {
		t.Fatalf("round trip: %v", err)
	}
}

func forgerSign(t *testing.T, s *RequestSigner, agentName, boot, verb string, body any) []byte {
	t.Helper()
	b, err := s.Sign(agentName, boot, verb, body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// FuzzOpenSignedRequest: whatever arrives, Open does not panic, and only
// what the key signed for this agent and verb passes.
func FuzzOpenSignedRequest(f *testing.F) {
	key := testKey(1)
	signer := NewRequestSigner(key, at(t0))
	good, _ := signer.Sign("h", "b", VerbRun, RunRequest{Run: "r", Action: "a"})
	f.Add(good)
	f.Add([]byte(`{"sig":"AAAA","agent":"h","verb":"run"}`))
	f.Add([]byte(`{"run":"r","action":"a"}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		v := NewRequestVerifier(key.Public().(ed25519.PublicKey), "h", time.Minute, at(t0))
		body, err := v.Open(data, VerbRun, "b")
		if err != nil {
			return
		}
		var r SignedRequest
		if json.Unmarshal(data, &r) != nil || r.Agent != "h" || r.Verb != VerbRun || r.Boot != "b" ||
			!ed25519.Verify(key.Public().(ed25519.PublicKey), r.signedBytes(), r.Sig) || !bytes.Equal(body, r.Body) {
			t.Fatalf("accepted %q", data)
		}
	})
}

// FuzzParseRequestKey: a key that parses formats back to itself.
func FuzzParseRequestKey(f *testing.F) {
	f.Add(FormatRequestKey(testKey(1).Public().(ed25519.PublicKey)))
	f.Add("ed25519:")
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseRequestKey(s)
		if err != nil {
			return
		}
		if k2, err := ParseRequestKey(FormatRequestKey(k)); err != nil || !k2.Equal(k) {
			t.Fatalf("%q: does not round-trip", s)
		}
	})
}
