package agent

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Requests from the server to an agent (run, cancel, status) travel as a
// SignedRequest: the server signs each with an ed25519 key only it holds,
// and gives agents the public key in the bootstrap answer. An agent acts
// on a request only when the signature holds, the request names this
// agent, the verb it arrived for and (for run and cancel) this life of
// the agent, was issued within MaxRequestAge of the agent's clock, and
// its ID was not seen before. So whoever can publish on an agent's
// subjects (another NATS user, a stolen nats.secret) cannot make it run
// anything, nor replay what the server once sent.

// SignedRequest is the envelope of a server → agent request.
type SignedRequest struct {
	// Agent is the agent the request is for.
	Agent string `json:"agent"`
	// Boot is the life of the agent it is for (Facts.Boot); empty for a
	// status request, which any life may answer.
	Boot string `json:"boot,omitempty"`
	// Verb is VerbRun, VerbCancel or VerbStatus.
	Verb string `json:"verb"`
	// ID is random and unique to this request.
	ID string `json:"id"`
	// IssuedMS is when the server signed it, in Unix milliseconds.
	IssuedMS int64 `json:"issued_ms"`
	// Body is the RunRequest, CancelRequest or StatusRequest.
	Body json.RawMessage `json:"body"`
	// Sig is the ed25519 signature of the fields above (see signedBytes).
	Sig []byte `json:"sig"`
}

// DefaultMaxRequestAge is how far a request's issue time may lie from the
// agent's clock, either way, unless `gaffer agent --max-request-age`
// says otherwise. It bounds clock skew and how long a request ID is
// remembered.
const DefaultMaxRequestAge = 2 * time.Minute

// requestKeyPrefix starts the text form of a request-signing public key.
const requestKeyPrefix = "ed25519:"

// maxRequestID bounds a request ID's length.
const maxRequestID = 64

// Why an agent refuses a request. Each error an agent returns for a
// request wraps one of these.
var (
	ErrUnsigned     = errors.New("request is not signed by the server")
	ErrBadSignature = errors.New("request signature does not verify with the server's key")
	ErrMisdirected  = errors.New("request is for another agent or verb")
	ErrOtherBoot    = errors.New("request is for an earlier life of this agent")
	ErrStale        = errors.New("request was issued too long ago or in the future")
	ErrReplayed     = errors.New("request was already received")
)

// signedBytes is what the signature covers: a domain string, then each
// field length-prefixed, so that no two requests share a signing input.
func (r *SignedRequest) signedBytes() []byte {
	b := []byte("gaffer agent request v1\x00")
	for _, f := range []string{r.Agent, r.Boot, r.Verb, r.ID} {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	b = binary.BigEndian.AppendUint64(b, uint64(r.IssuedMS))
	b = binary.AppendUvarint(b, uint64(len(r.Body)))
	return append(b, r.Body...)
}

// FormatRequestKey is the text form of a request-signing public key, as
// the bootstrap answer carries it and `gaffer agent --request-key` pins
// it: "ed25519:" and the key in unpadded standard base64.
func FormatRequestKey(pub ed25519.PublicKey) string {
	return requestKeyPrefix + base64.RawStdEncoding.EncodeToString(pub)
}

// ParseRequestKey reads the text form of FormatRequestKey.
func ParseRequestKey(s string) (ed25519.PublicKey, error) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(s), requestKeyPrefix)
	if !ok {
		return nil, fmt.Errorf("request key %q: want %q followed by a base64 ed25519 public key", s, requestKeyPrefix)
	}
	b, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(rest, "="))
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("request key %q: want %d bytes of base64 after %q", s, ed25519.PublicKeySize, requestKeyPrefix)
	}
	return ed25519.PublicKey(b), nil
}

// RequestSigner signs the server's requests to agents.
type RequestSigner struct {
	key ed25519.PrivateKey
	now func() time.Time
}

// NewRequestSigner signs with key, stamping requests with now().
func NewRequestSigner(key ed25519.PrivateKey, now func() time.Time) *RequestSigner {
	if now == nil {
		now = time.Now
	}
	return &RequestSigner{key: key, now: now}
}

// PublicKey is the key agents verify with, in its text form.
func (s *RequestSigner) PublicKey() string {
	return FormatRequestKey(s.key.Public().(ed25519.PublicKey))
}

// Sign encodes body as JSON and returns the signed envelope for verb,
// sent to the agent named agentName in its life boot ("" only for status
// requests).
func (s *RequestSigner) Sign(agentName, boot, verb string, body any) ([]byte, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("sign %s request: %w", verb, err)
	}
	var id [16]byte
	if _, err := rand.Read(id[:]); err != nil {
		return nil, fmt.Errorf("sign %s request: %w", verb, err)
	}
	r := SignedRequest{Agent: agentName, Boot: boot, Verb: verb, ID: hex.EncodeToString(id[:]),
		IssuedMS: s.now().UnixMilli(), Body: b}
	r.Sig = ed25519.Sign(s.key, r.signedBytes())
	return json.Marshal(r)
}

// RequestVerifier checks the requests an agent receives. It is safe for
// concurrent use.
type RequestVerifier struct {
	key    ed25519.PublicKey
	agent  string
	maxAge time.Duration
	now    func() time.Time

	mu   sync.Mutex
	seen map[string]time.Time // request ID -> when it can no longer be fresh
}

// NewRequestVerifier checks requests for the agent named agentName
// against the server's key; maxAge <= 0 means DefaultMaxRequestAge.
func NewRequestVerifier(key ed25519.PublicKey, agentName string, maxAge time.Duration, now func() time.Time) *RequestVerifier {
	if maxAge <= 0 {
		maxAge = DefaultMaxRequestAge
	}
	if now == nil {
		now = time.Now
	}
	return &RequestVerifier{key: key, agent: agentName, maxAge: maxAge, now: now, seen: map[string]time.Time{}}
}

// Open checks data, a SignedRequest received for verb, and returns its
// body. boot is the agent's life the request must name; "" accepts a
// request for any life (status requests). A request that passes is
// remembered, so the same one is refused next time.
func (v *RequestVerifier) Open(data []byte, verb, boot string) (json.RawMessage, error) {
	var r SignedRequest
	if err := json.Unmarshal(data, &r); err != nil || len(r.Sig) == 0 {
		return nil, ErrUnsigned
	}
	if len(r.Sig) != ed25519.SignatureSize || !ed25519.Verify(v.key, r.signedBytes(), r.Sig) {
		return nil, ErrBadSignature
	}
	if r.Agent != v.agent || r.Verb != verb {
		return nil, fmt.Errorf("%w: it is for %s of agent %q", ErrMisdirected, r.Verb, r.Agent)
	}
	if boot != "" && r.Boot != boot {
		return nil, fmt.Errorf("%w: boot %q, this is %q", ErrOtherBoot, r.Boot, boot)
	}
	if r.ID == "" || len(r.ID) > maxRequestID {
		return nil, fmt.Errorf("%w: its ID is empty or longer than %d", ErrMisdirected, maxRequestID)
	}
	now := v.now()
	issued := time.UnixMilli(r.IssuedMS)
	if age := now.Sub(issued); age > v.maxAge || age < -v.maxAge {
		return nil, fmt.Errorf("%w: issued %s, %s from this host's clock (at most %s either way)",
			ErrStale, issued.UTC().Format(time.RFC3339), age.Round(time.Second), v.maxAge)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	for id, until := range v.seen {
		if now.After(until) {
			delete(v.seen, id)
		}
	}
	if _, dup := v.seen[r.ID]; dup {
		return nil, fmt.Errorf("%w: request ID %s", ErrReplayed, r.ID)
	}
	v.seen[r.ID] = issued.Add(v.maxAge)
	return r.Body, nil
}
