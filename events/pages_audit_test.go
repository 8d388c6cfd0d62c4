package events_test

import (
	"net/url"
	"testing"

	"github.com/gaffer-sre/gaffer/internal/platform/audit"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
)

// TestEditorChecksAreNotAudited: the rule editor checks its condition and
// dry-runs the rule while the user types; neither changes anything, so
// neither may write an audit entry (opening /events/rules/new used to).
// They still need a token with the read scope.
func TestEditorChecksAreNotAudited(t *testing.T) {
	ts := start(t, platformtest.Backend{}, "")
	form := url.Values{"condition": {`source == "/t"`}, "actions": {`[{"type":"webhook","url":"http://x/"}]`}, "since": {"1h"}}.Encode()
	before := auditCount(t, ts)
	for _, path := range []string{"/events/rules/check", "/events/rules/dryrun"} {
		if resp := ts.DoWith("POST", path, ts.token, "application/x-www-form-urlencoded", form); resp.Status != 200 {
			t.Fatalf("%s: %d %s", path, resp.Status, resp.Body)
		}
		if resp := ts.DoWith("POST", path, "", "application/x-www-form-urlencoded", form); resp.Status != 401 {
			t.Errorf("%s without a token: %d, want 401", path, resp.Status)
		}
	}
	resp := ts.Do("POST", "/api/v1/events/rules/validate", ts.token, map[string]any{"condition": "true",
		"actions": []map[string]any{{"type": "webhook", "url": "http://x/"}}})
	if resp.Status != 200 {
		t.Fatalf("validate: %d %s", resp.Status, resp.Body)
	}
	if after := auditCount(t, ts); after != before {
		t.Errorf("checks wrote %d audit entries", after-before)
	}
}

func auditCount(t *testing.T, ts *testServer) int {
	t.Helper()
	entries, _, err := ts.Deps().Audit.List(t.Context(), audit.Filter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}
