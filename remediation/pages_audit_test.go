package remediation_test

import (
	"net/url"
	"testing"

	"github.com/gaffer-sre/gaffer/internal/platform/audit"
)

// TestValidateIsNotAudited: the runbook editor validates its source while
// the user types (and once on load); validation changes nothing, so it may
// write no audit entry, but it still needs a token.
func TestValidateIsNotAudited(t *testing.T) {
	s := start(t)
	src := "name: x\nsteps: []\n"
	count := func() int {
		entries, _, err := s.Deps().Audit.List(t.Context(), audit.Filter{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		return len(entries)
	}
	before := count()
	form := url.Values{"source": {src}}.Encode()
	if resp := s.DoWith("POST", "/remediation/validate", s.token, "application/x-www-form-urlencoded", form); resp.Status != 200 {
		t.Fatalf("page validate: %d %s", resp.Status, resp.Body)
	}
	if resp := s.DoWith("POST", "/remediation/validate", "", "application/x-www-form-urlencoded", form); resp.Status != 401 {
		t.Errorf("page validate without a token: %d, want 401", resp.Status)
	}
	if resp := s.DoWith("POST", "/api/v1/remediation/runbooks/validate", s.token, "application/yaml", src); resp.Status != 200 {
		t.Fatalf("api validate: %d %s", resp.Status, resp.Body)
	}
	if after := count(); after != before {
		t.Errorf("validation wrote %d audit entries", after-before)
	}
}
