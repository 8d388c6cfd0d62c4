package sshca

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/clocktest"
	"golang.org/x/crypto/ssh"
)

// TestCertificateLifeAtAnyTime signs, checks and revokes a certificate
// with the authority's clock at every time of clocktest.DaySweep: the
// certificate is valid from the signing time (give or take the backdating)
// until the validity asked after it (to the second), an OpenSSH checker at the same clock
// accepts it and one a second after its end refuses it, and a revoked
// certificate stays in the KRL until an hour after it expires. The times
// run one after another on one server, since they share its authority.
func TestCertificateLifeAtAnyTime(t *testing.T) {
	srv := startServer(t)
	a := srv.service().Authority()
	ctx := context.Background()
	alice := srv.identityToken("alice", ScopeSign)
	defer func(now func() time.Time) { a.now = now }(a.now)
	for _, at := range clocktest.DaySweep() {
		a.now = clocktest.Fixed(at)
		key := newUserKey(t)
		rec, cert := mustCert(t, srv.sign(alice, SignRequest{PublicKey: pubLine(key.PublicKey()), Validity: "5m"}))
		after, before := time.Unix(int64(cert.ValidAfter), 0), time.Unix(int64(cert.ValidBefore), 0)
		if left := before.Sub(at); after.After(at) || at.Sub(after) > 10*time.Minute || left > 5*time.Minute || left <= 5*time.Minute-time.Second {
			t.Fatalf("at %s: valid %s to %s", at.Format("15:04"), after, before)
		}
		checker := func(now time.Time) error {
			c := &ssh.CertChecker{Clock: func() time.Time { return now },
				IsUserAuthority: func(auth ssh.PublicKey) bool { return true }}
			return c.CheckCert("alice", cert)
		}
		if err := checker(at); err != nil {
			t.Fatalf("at %s: refused at its signing time: %v", at.Format("15:04"), err)
		}
		if err := checker(before.Add(time.Second)); err == nil {
			t.Fatalf("at %s: accepted a second after %s", at.Format("15:04"), before)
		}
		if _, err := a.Revoke(ctx, RevokeRequest{Serial: fmt.Sprint(rec.Serial)}, "test"); err != nil {
			t.Fatal(err)
		}
		inKRL := func(now time.Time) bool {
			a.now = clocktest.Fixed(now)
			data, err := a.KRL(ctx)
			if err != nil {
				t.Fatal(err)
			}
			k, err := ParseKRL(data)
			if err != nil {
				t.Fatal(err)
			}
			return k.IsRevoked(cert)
		}
		if !inKRL(at) || !inKRL(before.Add(krlExpiryMargin-time.Minute)) {
			t.Fatalf("at %s: a revoked certificate is missing from the KRL before its end plus the margin", at.Format("15:04"))
		}
		if inKRL(before.Add(krlExpiryMargin + time.Minute)) {
			t.Fatalf("at %s: a certificate is still in the KRL an hour after it expired", at.Format("15:04"))
		}
	}
}
