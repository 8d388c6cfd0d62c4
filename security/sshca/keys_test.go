package sshca

import (
	"crypto/dsa"
	"crypto/rand"
	"os/exec"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/gaffer-sre/gaffer/internal/platform/seal"
)

// TestEveryCAAlgorithmSigns signs with each CA algorithm, through the
// sealed-key round trip, and has ssh-keygen read the certificate; RSA CAs
// must sign with rsa-sha2-512, which OpenSSH accepts by default.
func TestEveryCAAlgorithmSigns(t *testing.T) {
	kek, err := seal.New(keyringName, "test", make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	for _, alg := range Algorithms {
		priv, err := generateKey(alg)
		if err != nil {
			t.Fatal(err)
		}
		pemBytes, err := marshalPrivate(priv, "test")
		if err != nil {
			t.Fatal(err)
		}
		sealed, _, err := kek.Seal(pemBytes, "ck_"+alg)
		if err != nil {
			t.Fatal(err)
		}
		opened, err := kek.Open(sealed, "ck_"+alg)
		if err != nil {
			t.Fatal(err)
		}
		signer, err := parsePrivate(opened)
		if err != nil {
			t.Fatalf("%s: %v", alg, err)
		}
		cert := testCert(t, signer, newUserKey(t).PublicKey(), 7, "alg-"+alg)
		checker := ssh.CertChecker{IsUserAuthority: func(k ssh.PublicKey) bool {
			return string(k.Marshal()) == string(signer.PublicKey().Marshal())
		}}
		if err := checker.CheckCert("alice", cert); err != nil {
			t.Errorf("%s: certificate does not verify: %v", alg, err)
		}
		if strings.HasPrefix(alg, "rsa") && cert.Signature.Format != ssh.KeyAlgoRSASHA512 {
			t.Errorf("%s: signature %s, want rsa-sha2-512", alg, cert.Signature.Format)
		}
		if _, err := exec.LookPath("ssh-keygen"); err == nil {
			out := keygenList(t, writeFile(t, t.TempDir(), "c-cert.pub", ssh.MarshalAuthorizedKey(cert)))
			if !strings.Contains(out, "alg-"+alg) {
				t.Errorf("%s: ssh-keygen -L:\n%s", alg, out)
			}
		}
	}
}

func TestParsePublicKeyRefusesDSA(t *testing.T) {
	var params dsa.Parameters
	if err := dsa.GenerateParameters(&params, rand.Reader, dsa.L1024N160); err != nil {
		t.Fatal(err)
	}
	priv := &dsa.PrivateKey{PublicKey: dsa.PublicKey{Parameters: params}}
	if err := dsa.GenerateKey(priv, rand.Reader); err != nil {
		t.Fatal(err)
	}
	pub, err := ssh.NewPublicKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ParsePublicKey(pubLine(pub)); err == nil || !strings.Contains(err.Error(), "unsupported key type ssh-dss") {
		t.Fatalf("DSA key: %v", err)
	}
}
