package certs_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/clocktest"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/security/certs"
)

// TestExpiryNotificationAtAnyTime issues a ten-day certificate that asks
// for a notice nine days before it expires, at every time of
// clocktest.DaySweep, and checks it with the
// platform's clock seven minutes before, one second after and again after
// the threshold: the notice goes out once, at the first check past it.
// The times run one after another on one server, which shares the clock.
func TestExpiryNotificationAtAnyTime(t *testing.T) {
	clock := clocktest.NewManual(clocktest.Base)
	srv, tok := startPKI(t, platformtest.Options{Now: clock.Now})
	check := func(at time.Time) int {
		t.Helper()
		clock.Set(at)
		var res certs.CheckResult
		mustDo(t, srv, "POST", "/api/v1/certs/check", tok, nil, http.StatusOK).JSON(t, &res)
		return res.Notified
	}
	for _, at := range clocktest.DaySweep() {
		clock.Set(at)
		c := issue(t, srv, tok, certs.IssueRequest{CommonName: "clock.example.test", Validity: certs.Duration(10 * 24 * time.Hour), NotifyDays: []int{9}})
		if !c.NotAfter.After(at) || c.NotAfter.Sub(at) > 10*24*time.Hour {
			t.Fatalf("at %s: issued until %s", at.Format("15:04"), c.NotAfter)
		}
		crossing := c.NotAfter.Add(-9 * 24 * time.Hour)
		if n := check(crossing.Add(-7 * time.Minute)); n != 0 {
			t.Fatalf("at %s: %d notices before the threshold", at.Format("15:04"), n)
		}
		if n := check(crossing.Add(time.Second)); n != 1 {
			t.Fatalf("at %s: %d notices a second past the threshold, want 1", at.Format("15:04"), n)
		}
		if n := check(crossing.Add(time.Hour)); n != 0 {
			t.Fatalf("at %s: %d notices again", at.Format("15:04"), n)
		}
		mustDo(t, srv, "POST", "/api/v1/certs/certificates/"+strconv.FormatInt(c.ID, 10)+"/revoke", tok, certs.RevokeRequest{Reason: "superseded"}, http.StatusOK)
	}
}
