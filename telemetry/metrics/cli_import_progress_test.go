package metrics

import (
	"bytes"
	"strings"
	"testing"
)

// TestProgressDrawsNoEarlyLine is issue #17 item 8: the first read of a
// file drew "100% … 0 samples" before anything was sent. A short import
// now prints only its final line.
func TestProgressDrawsNoEarlyLine(t *testing.T) {
	var out bytes.Buffer
	p := newProgress(&out, 1000)
	p.add(1000) // the reader buffered the whole file
	p.samples(0)
	if out.Len() != 0 {
		t.Fatalf("a line before any sample was sent: %q", out.String())
	}
	p.samples(42)
	p.done()
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], "100%") || !strings.Contains(lines[0], "42 samples") {
		t.Fatalf("progress output %q, want one final line with 42 samples", out.String())
	}
}
