package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
)

func TestAtlasGraphCommand(t *testing.T) {
	srv := platformtest.Start(t, platformtest.Options{Demo: true})
	tok := srv.Token("atlas:read")
	out := filepath.Join(t.TempDir(), "g.png")
	q := "name,http_requests_total,:eq,(,region,),:by"
	if log, err := runGaffer(t, "", "atlas", "graph", "--server", srv.URL, "--token", tok, "-q", q, "--s", "e-1d", "--out", out); err != nil {
		t.Fatalf("graph: %v %s", err, log)
	}
	b, err := os.ReadFile(out)
	if err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) {
		t.Fatalf("not a PNG: %v %q", err, b[:min(len(b), 8)])
	}
	csv, err := runGaffer(t, "", "atlas", "graph", "--server", srv.URL, "--token", tok, "-q", q, "--format", "csv")
	if err != nil || !strings.Contains(csv, "us-east-1") && !strings.Contains(csv, "region") {
		t.Fatalf("csv: %v\n%s", err, csv)
	}
	if _, err := runGaffer(t, "", "atlas", "graph", "--server", srv.URL, "--token", tok, "-q", "name,http_requests_total,:nosuchword"); err == nil || !strings.Contains(err.Error(), "nosuchword") {
		t.Fatalf("bad expression: %v", err)
	}
}
