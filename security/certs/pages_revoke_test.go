package certs_test

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/clocktest"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/security/certs"
)

// TestCertificatePageRevokeForm: a live certificate's page offers Revoke
// with the reason menu starting at, and selecting, unspecified; once the
// certificate has expired its page offers no Revoke at all.
func TestCertificatePageRevokeForm(t *testing.T) {
	clock := clocktest.NewManual(clocktest.Base)
	srv, tok := startPKI(t, platformtest.Options{Now: clock.Now})
	c := issue(t, srv, tok, certs.IssueRequest{CommonName: "page.example.test", Validity: certs.Duration(48 * time.Hour)})
	page := func() string {
		t.Helper()
		resp := srv.Do("GET", "/certs/c/"+strconv.FormatInt(c.ID, 10), tok, nil)
		if resp.Status != http.StatusOK {
			t.Fatalf("certificate page: %d %s", resp.Status, resp.Body)
		}
		return string(resp.Body)
	}

	live := page()
	if !strings.Contains(live, `id="revoke-form"`) {
		t.Fatal("a live certificate's page offers no Revoke")
	}
	options := regexp.MustCompile(`<option value="([a-z_]+)"( selected)?>`).FindAllStringSubmatch(live, -1)
	if len(options) != 9 {
		t.Fatalf("%d revocation reasons, want 9: %v", len(options), options)
	}
	var selected []string
	for _, o := range options {
		if o[2] != "" {
			selected = append(selected, o[1])
		}
	}
	if options[0][1] != "unspecified" || len(selected) != 1 || selected[0] != "unspecified" {
		t.Errorf("reason menu starts with %q and selects %v, want unspecified for both", options[0][1], selected)
	}

	clock.Set(c.NotAfter.Add(time.Hour))
	expired := page()
	if !strings.Contains(expired, ">expired<") {
		t.Fatal("the certificate does not show as expired")
	}
	if strings.Contains(expired, `id="revoke-form"`) || strings.Contains(expired, ">Revoke<") {
		t.Error("an expired certificate's page offers Revoke")
	}
}
