package cli

import (
	"strings"
	"testing"
)

func TestPinnedTLSNeedsACAFileForHTTPS(t *testing.T) {
	if c, err := PinnedTLS("http://127.0.0.1:7070", ""); c != nil || err != nil {
		t.Fatalf("http without a CA: %v %v", c, err)
	}
	_, err := PinnedTLS("https://gaffer.example", "")
	if err == nil || !strings.Contains(err.Error(), "--ca-file") || !strings.Contains(err.Error(), "GAFFER_CA_FILE") {
		t.Fatalf("https without a CA: %v", err)
	}
	if _, err := PinnedTLS("http://127.0.0.1:7070", "ca.pem"); err == nil || !strings.Contains(err.Error(), "not https") {
		t.Fatalf("a CA for http: %v", err)
	}
	if _, err := PinnedTLS("https://gaffer.example", "/nonexistent/ca.pem"); err == nil || !strings.Contains(err.Error(), "ca-file") {
		t.Fatalf("a missing CA file: %v", err)
	}
	f := &ClientFlags{Server: "https://gaffer.example", Token: "t"}
	if _, err := f.Client(); err == nil || !strings.Contains(err.Error(), "no CA certificate is pinned") {
		t.Fatalf("Client without a CA: %v", err)
	}
}
