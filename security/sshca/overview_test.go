package sshca

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform"
	"github.com/gaffer-sre/gaffer/internal/platform/clocktest"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
)

// TestOverviewCountsTheLastDayOfSigning signs a certificate two days
// before a fixed time, then at it signs two, has a request refused and
// revokes one, and reads the overview an hour later on the same clock:
// only the last day counts, and the refusal and the revocation are
// listed newest first.
func TestOverviewCountsTheLastDayOfSigning(t *testing.T) {
	t.Setenv(KEKEnv, "")
	t.Setenv(KEKFileEnv, "")
	clock := clocktest.NewManual(clocktest.Base.Add(-48 * time.Hour))
	srv := &testServer{Server: platformtest.Start(t, platformtest.Options{Roles: []string{"sshca"}, Now: clock.Now}), t: t}
	alice := srv.identityToken("alice", ScopeSign)
	mustCert(t, srv.sign(alice, SignRequest{PublicKey: pubLine(newUserKey(t).PublicKey())}))

	clock.Set(clocktest.Base)
	first, _ := mustCert(t, srv.sign(alice, SignRequest{PublicKey: pubLine(newUserKey(t).PublicKey())}))
	mustCert(t, srv.sign(alice, SignRequest{PublicKey: pubLine(newUserKey(t).PublicKey())}))
	if resp := srv.sign(alice, SignRequest{PublicKey: pubLine(newUserKey(t).PublicKey()), CertType: "host"}); resp.Status != http.StatusForbidden {
		t.Fatalf("a user asking for a host certificate: %d %s, want 403", resp.Status, resp.Body)
	}
	clock.Set(clocktest.Base.Add(time.Minute))
	if _, err := srv.service().Authority().Revoke(context.Background(), RevokeRequest{Serial: fmt.Sprint(first.Serial), Reason: "laptop lost"}, "bob"); err != nil {
		t.Fatal(err)
	}
	clock.Set(clocktest.Base.Add(time.Hour))
	panels, err := srv.service().Overview(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(panels) != 1 || panels[0].Section != platform.SectionSecurity {
		t.Fatalf("want one credentials panel, got %+v", panels)
	}
	p := panels[0]
	values := map[string]string{}
	for _, f := range p.Figures {
		values[f.Label] = f.Value
	}
	if values["certificates signed in 24h"] != "2" || values["requests refused in 24h"] != "1" || values["revocations in 24h"] != "1" {
		t.Errorf("figures: %+v", p.Figures)
	}
	if len(p.Rows) != 2 {
		t.Fatalf("rows: want the revocation and the refusal, got %+v", p.Rows)
	}
	rev, ref := p.Rows[0], p.Rows[1]
	if !rev.Time.Equal(clocktest.Base.Add(time.Minute)) || rev.Text != fmt.Sprintf("revoked serial %d of %s: laptop lost", first.Serial, first.CA) ||
		rev.Who != "bob" || rev.Status != "revoked" || rev.Link != "/sshca/revocations" {
		t.Errorf("revocation row: %+v", rev)
	}
	if !ref.Time.Equal(clocktest.Base) || !strings.HasPrefix(ref.Text, "refused for alice: ") || ref.Status != "refused" ||
		ref.Tone != platform.ToneWarn || ref.Link != "/audit?action="+refusedAction {
		t.Errorf("refusal row: %+v", ref)
	}
}
