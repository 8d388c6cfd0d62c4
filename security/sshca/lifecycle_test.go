package sshca

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
)

func TestRotationAndHostCerts(t *testing.T) {
	platformtest.EachBackend(t, func(t *testing.T, b platformtest.Backend) {
		srv := startOn(t, b)
		admin := srv.AdminToken
		alice := srv.identityToken("alice", ScopeSign)
		key := pubLine(newUserKey(t).PublicKey())
		_, first := mustCert(t, srv.sign(alice, SignRequest{PublicKey: key}))

		var ca CA
		if r := srv.Do("POST", "/api/v1/sshca/cas/user/rotate", srv.Token(ScopeWrite), nil); r.Status != http.StatusForbidden {
			t.Fatalf("rotate with sshca:write: %d, want 403 (admin only)", r.Status)
		}
		r := srv.Do("POST", "/api/v1/sshca/cas/user/rotate", admin, RotateRequest{Algorithm: AlgECDSAP256})
		if r.Status != 200 {
			t.Fatalf("rotate: %d %s", r.Status, r.Body)
		}
		r.JSON(t, &ca)
		if len(ca.Keys) != 2 || ca.Keys[0].State != KeyActive || ca.Keys[0].Algorithm != AlgECDSAP256 || ca.Keys[1].State != KeyTrusted {
			t.Fatalf("after rotation: %+v", ca.Keys)
		}
		var trusted TrustedKeysResponse
		if msg, err := srv.Deps().Bus.Stream.GetLastMsgForSubject(context.Background(), EventRotated); err != nil ||
			!strings.Contains(string(msg.Data), ca.Keys[0].ID) {
			t.Fatalf("rotation event: %v", err)
		}
		srv.Do("GET", "/api/v1/sshca/ca-pubkey?type=user", "", nil).JSON(t, &trusted)
		if len(trusted.Keys) != 2 {
			t.Fatalf("trusted keys during rotation: %v", trusted.Keys)
		}
		_, second := mustCert(t, srv.sign(alice, SignRequest{PublicKey: key}))
		if ssh.FingerprintSHA256(second.SignatureKey) == ssh.FingerprintSHA256(first.SignatureKey) ||
			second.SignatureKey.Type() != ssh.KeyAlgoECDSA256 {
			t.Fatal("after rotation the new key does not sign")
		}
		if r := srv.Do("POST", "/api/v1/sshca/cas/user/keys/"+ca.Keys[0].ID+"/retire", admin, nil); r.Status != http.StatusConflict {
			t.Fatalf("retiring the active key: %d %s", r.Status, r.Body)
		}
		if r := srv.Do("POST", "/api/v1/sshca/cas/user/keys/"+ca.Keys[1].ID+"/retire", admin, nil); r.Status != 200 {
			t.Fatalf("retire: %d %s", r.Status, r.Body)
		}
		srv.Do("GET", "/api/v1/sshca/ca-pubkey?type=user", "", nil).JSON(t, &trusted)
		if len(trusted.Keys) != 1 || !strings.HasPrefix(trusted.Keys[0], "ecdsa-sha2-nistp256 ") {
			t.Fatalf("after retiring: %v", trusted.Keys)
		}
		if r := srv.Do("POST", "/api/v1/sshca/cas", admin, CreateCARequest{Name: "user", CertType: UserCert}); r.Status != http.StatusConflict {
			t.Fatalf("duplicate CA: %d", r.Status)
		}
		if r := srv.Do("POST", "/api/v1/sshca/cas", admin, CreateCARequest{Name: "x", CertType: UserCert, Algorithm: "dsa"}); r.Status != 400 {
			t.Fatalf("bad algorithm: %d", r.Status)
		}

		// Host certificates: a bootstrap identity, host names checked by policy.
		// Host names beyond {{identity}} are for an admin to grant.
		writer := srv.Token(ScopeWrite)
		hosts := Policy{CertType: HostCert, Identities: []string{"bootstrap"}, Principals: []string{"*.prod.example.com"}}
		if r := srv.Do("PUT", "/api/v1/sshca/policies/hosts", writer, hosts); r.Status != 403 || !strings.Contains(string(r.Body), "principals[0]") {
			t.Fatalf("host policy from sshca:write: %d %s", r.Status, r.Body)
		}
		if r := srv.Do("PUT", "/api/v1/sshca/policies/hosts", admin, hosts); r.Status != 200 {
			t.Fatalf("put host policy: %d %s", r.Status, r.Body)
		}
		if r := srv.Do("PUT", "/api/v1/sshca/policies/bad", writer, Policy{CertType: "both"}); r.Status != 400 || !strings.Contains(string(r.Body), "cert_type") {
			t.Fatalf("bad policy: %d %s", r.Status, r.Body)
		}
		boot := srv.identityToken("bootstrap", ScopeSign)
		rec, cert := mustCert(t, srv.sign(boot, SignRequest{PublicKey: key, CertType: HostCert, Principals: []string{"web-1.prod.example.com"}}))
		if cert.CertType != ssh.HostCert || rec.CA != "host" || len(cert.Extensions) != 0 {
			t.Fatalf("host cert: type %d CA %s extensions %v", cert.CertType, rec.CA, cert.Extensions)
		}
		checkWithSSHKeygen(t, rec.Certificate, "web-1.prod.example.com")
		if r := srv.sign(boot, SignRequest{PublicKey: key, CertType: HostCert, Principals: []string{"db.corp.example.com"}}); r.Status != 403 {
			t.Fatalf("host outside policy: %d %s", r.Status, r.Body)
		}
		if r := srv.sign(boot, SignRequest{PublicKey: key, CertType: HostCert}); r.Status != 400 {
			t.Fatalf("host cert without principals: %d %s", r.Status, r.Body)
		}
		var hostKeys []byte = srv.Do("GET", "/api/v1/sshca/ca-pubkey?type=host&format=text", "", nil).Body
		if !strings.HasPrefix(string(hostKeys), "@cert-authority * ssh-ed25519 ") {
			t.Fatalf("host CA text: %s", hostKeys)
		}
		if r := srv.Do("DELETE", "/api/v1/sshca/policies/hosts", writer, nil); r.Status != 204 {
			t.Fatalf("delete policy: %d", r.Status)
		}
		if r := srv.sign(boot, SignRequest{PublicKey: key, CertType: HostCert, Principals: []string{"web-1.prod.example.com"}}); r.Status != 403 {
			t.Fatalf("after deleting the policy: %d", r.Status)
		}
	})
}

func TestDemoIsIdempotent(t *testing.T) {
	srv := startServer(t)
	a := srv.service().Authority()
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		if err := a.loadDemo(ctx); err != nil {
			t.Fatal(err)
		}
	}
	certs, _, err := a.ListCerts(ctx, CertFilter{})
	revs, err2 := a.ListRevocations(ctx)
	if err != nil || err2 != nil || len(certs) != 4 || len(revs) != 1 {
		t.Fatalf("demo: %d certs, %d revocations (%v %v)", len(certs), len(revs), err, err2)
	}
	cas, _ := a.ListCAs(ctx)
	if len(cas) != 2 {
		t.Fatalf("demo CAs: %d", len(cas))
	}
	for _, path := range []string{"/sshca", "/sshca/policies", "/sshca/certs?q=carol", "/sshca/revocations"} {
		r := srv.Do("GET", path, srv.AdminToken, nil)
		if r.Status != 200 || !strings.Contains(string(r.Body), "SSH") {
			t.Errorf("page %s: %d", path, r.Status)
		}
	}
}

func TestExpiredLeaveTheKRLAndArePruned(t *testing.T) {
	srv := startServer(t)
	a := srv.service().Authority()
	ctx := context.Background()
	alice := srv.identityToken("alice", ScopeSign)
	rec, cert := mustCert(t, srv.sign(alice, SignRequest{PublicKey: pubLine(newUserKey(t).PublicKey())}))
	if _, err := a.Revoke(ctx, RevokeRequest{Serial: fmt.Sprint(rec.Serial)}, "test"); err != nil {
		t.Fatal(err)
	}
	if msg, err := srv.Deps().Bus.Stream.GetLastMsgForSubject(ctx, EventRevoked); err != nil ||
		!strings.Contains(string(msg.Data), fmt.Sprint(rec.Serial)) {
		t.Fatalf("revocation event: %v", err)
	}
	krlNow := func() *KRL {
		data, err := a.KRL(ctx)
		if err != nil {
			t.Fatal(err)
		}
		k, err := ParseKRL(data)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	if !krlNow().IsRevoked(cert) {
		t.Fatal("revoked certificate not in the KRL")
	}
	a.now = func() time.Time { return time.Now().Add(5*time.Minute + krlExpiryMargin + time.Minute) }
	if krlNow().IsRevoked(cert) {
		t.Fatal("a long-expired certificate is still in the KRL")
	}
	n, err := a.PruneExpired(ctx, a.now())
	if err != nil || n != 1 {
		t.Fatalf("prune: %d %v", n, err)
	}
	if revs, _ := a.ListRevocations(ctx); len(revs) != 1 {
		t.Fatal("pruning removed the revocation record")
	}
}

func TestConcurrentSigning(t *testing.T) {
	srv := startServer(t)
	alice := srv.identityToken("alice", ScopeSign)
	key := pubLine(newUserKey(t).PublicKey())
	const n = 40
	serials := make(chan uint64, n)
	errs := make(chan string, n)
	for i := 0; i < n; i++ {
		go func() {
			r := srv.Do("POST", "/api/v1/sshca/sign", alice, SignRequest{PublicKey: key})
			if r.Status != http.StatusCreated {
				errs <- string(r.Body)
				return
			}
			var c Cert
			if err := json.Unmarshal(r.Body, &c); err != nil {
				errs <- err.Error()
				return
			}
			serials <- c.Serial
		}()
	}
	seen := map[uint64]bool{}
	for i := 0; i < n; i++ {
		select {
		case s := <-serials:
			if seen[s] {
				t.Fatalf("serial %d issued twice", s)
			}
			seen[s] = true
		case e := <-errs:
			t.Fatalf("concurrent sign: %s", e)
		}
	}
	certs, _, err := srv.service().Authority().ListCerts(context.Background(), CertFilter{Limit: 1000})
	if err != nil || len(certs) != n {
		t.Fatalf("%d certificates recorded (%v), want %d", len(certs), err, n)
	}
}
