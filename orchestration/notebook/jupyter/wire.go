// Package jupyter speaks the Jupyter messaging protocol (version 5.3) to a
// kernel over ZeroMQ: it starts a kernel from its kernel spec with a fresh
// connection file, signs and verifies every message with HMAC-SHA256, and
// drives the shell, iopub, stdin, control and heartbeat channels.
//
// Reference: https://jupyter-client.readthedocs.io/en/stable/messaging.html
package jupyter

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
)

// ProtocolVersion is the version of the messaging protocol this package speaks.
const ProtocolVersion = "5.3"

// delimiter separates the routing identities from the signed frames.
var delimiter = []byte("<IDS|MSG>")

// Header is a message header; ParentHeader of a reply carries the request's.
type Header struct {
	MsgID    string `json:"msg_id"`
	Session  string `json:"session"`
	Username string `json:"username"`
	Date     string `json:"date"`
	MsgType  string `json:"msg_type"`
	Version  string `json:"version"`
}

// Message is one protocol message. Content stays raw so that each message
// type decodes only what it uses.
type Message struct {
	Identities   [][]byte
	Header       Header
	ParentHeader Header
	Metadata     map[string]any
	Content      json.RawMessage
	Buffers      [][]byte
}

// Signer signs and verifies messages with a connection's key; a nil or
// empty key disables signing, as the protocol allows.
type Signer struct {
	key []byte
}

// NewSigner returns a Signer for the key of a connection file, whose
// signature scheme must be "hmac-sha256" (or empty with an empty key).
func NewSigner(scheme, key string) (*Signer, error) {
	if key == "" {
		return &Signer{}, nil
	}
	if scheme != "hmac-sha256" {
		return nil, fmt.Errorf("signature_scheme %q: only hmac-sha256 is supported", scheme)
	}
	return &Signer{key: []byte(key)}, nil
}

func (s *Signer) mac(frames ...[]byte) []byte {
	if len(s.key) == 0 {
		return nil
	}
	var h hash.Hash = hmac.New(sha256.New, s.key)
	for _, f := range frames {
		h.Write(f)
	}
	sum := h.Sum(nil)
	out := make([]byte, hex.EncodedLen(len(sum)))
	hex.Encode(out, sum)
	return out
}

// Encode returns the frames of m on the wire: identities, the delimiter,
// the signature, then header, parent header, metadata, content and buffers.
func (s *Signer) Encode(m *Message) ([][]byte, error) {
	header, err := json.Marshal(m.Header)
	if err != nil {
		return nil, fmt.Errorf("encode header: %w", err)
	}
	parent := []byte("{}")
	if m.ParentHeader.MsgID != "" {
		if parent, err = json.Marshal(m.ParentHeader); err != nil {
			return nil, fmt.Errorf("encode parent_header: %w", err)
		}
	}
	meta := []byte("{}")
	if len(m.Metadata) > 0 {
		if meta, err = json.Marshal(m.Metadata); err != nil {
			return nil, fmt.Errorf("encode metadata: %w", err)
		}
	}
	content := []byte(m.Content)
	if len(content) == 0 {
		content = []byte("{}")
	}
	frames := make([][]byte, 0, len(m.Identities)+6+len(m.Buffers))
	frames = append(frames, m.Identities...)
	frames = append(frames, delimiter, s.mac(header, parent, meta, content), header, parent, meta, content)
	return append(frames, m.Buffers...), nil
}

// ErrBadSignature is returned by Decode for a message whose HMAC does not
// match the connection's key.
var ErrBadSignature = errors.New("message signature does not match the connection key")

// Decode parses the frames of a received message and verifies its
// signature. The error names the frame that is wrong.
func (s *Signer) Decode(frames [][]byte) (*Message, error) {
	i := 0
	for i < len(frames) && !bytes.Equal(frames[i], delimiter) {
		i++
	}
	if i == len(frames) {
		return nil, errors.New("message has no <IDS|MSG> delimiter frame")
	}
	rest := frames[i+1:]
	if len(rest) < 5 {
		return nil, fmt.Errorf("message has %d frames after the delimiter, want at least 5 (signature, header, parent_header, metadata, content)", len(rest))
	}
	if len(s.key) > 0 {
		want := s.mac(rest[1], rest[2], rest[3], rest[4])
		if !hmac.Equal(want, rest[0]) {
			return nil, ErrBadSignature
		}
	}
	m := &Message{Identities: frames[:i], Content: json.RawMessage(rest[4])}
	if err := json.Unmarshal(rest[1], &m.Header); err != nil {
		return nil, fmt.Errorf("header frame: %w", err)
	}
	if m.Header.MsgType == "" {
		return nil, errors.New("header frame: msg_type is empty")
	}
	if err := json.Unmarshal(rest[2], &m.ParentHeader); err != nil {
		return nil, fmt.Errorf("parent_header frame: %w", err)
	}
	if err := json.Unmarshal(rest[3], &m.Metadata); err != nil {
		return nil, fmt.Errorf("metadata frame: %w", err)
	}
	if !json.Valid(rest[4]) {
		return nil, errors.New("content frame: not valid JSON")
	}
	m.Buffers = rest[5:]
	return m, nil
}
