package certs_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform"
	"github.com/gaffer-sre/gaffer/internal/platform/clocktest"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/security/certs"
)

// TestOverviewShowsExpiredThenExpiringCertificates issues certificates
// at a fixed time and reads the overview three days later on the same
// clock: the two-day certificate has expired, the ten- and twenty-day
// ones expire within 7 and 30 days, while the sixty-day one, a revoked
// one and a replaced one do not appear. A certificate is valid from a
// minute before its issue, so whole days left round down (6d, not 7d).
func TestOverviewShowsExpiredThenExpiringCertificates(t *testing.T) {
	clock := clocktest.NewManual(clocktest.Base)
	srv, tok := startPKI(t, platformtest.Options{Now: clock.Now})
	days := func(n int) certs.Duration { return certs.Duration(time.Duration(n) * 24 * time.Hour) }
	short := issue(t, srv, tok, certs.IssueRequest{CommonName: "short.example.test", Validity: days(2), Owner: "alice"})
	ten := issue(t, srv, tok, certs.IssueRequest{CommonName: "ten.example.test", Validity: days(10)})
	twenty := issue(t, srv, tok, certs.IssueRequest{CommonName: "twenty.example.test", Validity: days(20)})
	issue(t, srv, tok, certs.IssueRequest{CommonName: "sixty.example.test", Validity: days(60)})
	revoked := issue(t, srv, tok, certs.IssueRequest{CommonName: "revoked.example.test", Validity: days(5)})
	mustDo(t, srv, "POST", "/api/v1/certs/certificates/"+strconv.FormatInt(revoked.ID, 10)+"/revoke", tok,
		certs.RevokeRequest{Reason: "superseded"}, http.StatusOK)
	rotated := issue(t, srv, tok, certs.IssueRequest{CommonName: "rotated.example.test", Validity: days(5)})
	mustDo(t, srv, "POST", "/api/v1/certs/rotate", tok, certs.RotateRequest{Certificates: []string{strconv.FormatInt(rotated.ID, 10)}}, http.StatusOK)

	clock.Set(clocktest.Base.Add(3 * 24 * time.Hour))
	svc, _ := srv.Deps().Lookup(certs.Name)
	panels, err := svc.(platform.OverviewProvider).Overview(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(panels) != 1 || panels[0].Section != platform.SectionSecurity {
		t.Fatalf("want one credentials panel, got %+v", panels)
	}
	p := panels[0]
	link := func(c certs.Certificate) string { return "/certs/c/" + strconv.FormatInt(c.ID, 10) }
	want := []platform.Row{
		{Time: short.NotAfter, Text: "short.example.test (issuing)", Who: "alice", Status: "expired", Tone: platform.ToneBad, Link: link(short)},
		{Time: ten.NotAfter, Text: "ten.example.test (issuing)", Status: "6d left", Tone: platform.ToneBad, Link: link(ten)},
		{Time: twenty.NotAfter, Text: "twenty.example.test (issuing)", Status: "16d left", Tone: platform.ToneWarn, Link: link(twenty)},
	}
	// The rotation's successor expires in five days too: it comes between.
	if len(p.Rows) != 4 {
		t.Fatalf("rows: got %+v", p.Rows)
	}
	if p.Rows[1].Text != "rotated.example.test (issuing)" || p.Rows[1].Link == link(rotated) {
		t.Errorf("row 1 should be the rotation's successor, not the replaced certificate: %+v", p.Rows[1])
	}
	got := []platform.Row{p.Rows[0], p.Rows[2], p.Rows[3]}
	for i := range want {
		if g := got[i]; !g.Time.Equal(want[i].Time) || g.Text != want[i].Text || g.Who != want[i].Who ||
			g.Status != want[i].Status || g.Tone != want[i].Tone || g.Link != want[i].Link {
			t.Errorf("row %+v, want %+v", g, want[i])
		}
	}
	values := map[string]string{}
	for _, f := range p.Figures {
		values[f.Label] = f.Value
	}
	if values["expired, still in service"] != "1" || values["expire within 7 days"] != "2" || values["expire within 30 days"] != "3" {
		t.Errorf("figures: %+v", p.Figures)
	}
}
