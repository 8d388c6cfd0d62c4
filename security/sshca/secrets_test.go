package sshca

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/base64"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
)

// TestNoPrivateKeyInTheClear unseals every CA key through the KEK, then
// searches the data directory's files, the database and the API for the
// private keys in any usual encoding, and finds none.
func TestNoPrivateKeyInTheClear(t *testing.T) {
	platformtest.EachBackend(t, testNoPrivateKey)
}

func testNoPrivateKey(t *testing.T, b platformtest.Backend) {
	kekFile := filepath.Join(t.TempDir(), "kek")
	if err := os.WriteFile(kekFile, []byte(base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(KEKEnv, "")
	srv := &testServer{Server: platformtest.Start(t, platformtest.Options{Backend: b, Roles: []string{"sshca"}, Demo: true,
		Args: []string{"--sshca-kek-file", kekFile}}), t: t}
	ctx := context.Background()
	a := srv.service().Authority()
	for _, alg := range []string{AlgECDSAP256, AlgRSA3072} {
		if _, err := a.CreateCA(ctx, CreateCARequest{Name: "ca-" + alg, CertType: UserCert, Algorithm: alg}, "test"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.Rotate(ctx, "user", RotateRequest{}); err != nil {
		t.Fatal(err)
	}

	needles := [][]byte{[]byte("PRIVATE KEY"), []byte("openssh-key-v1"), []byte("b3BlbnNzaC1rZXktdjE")}
	rows, err := a.store.QueryContext(ctx, "SELECT id, sealed_private_key FROM sshca_ca_keys")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		var id string
		var sealed []byte
		if err := rows.Scan(&id, &sealed); err != nil {
			t.Fatal(err)
		}
		pemBytes, err := a.keys.Open(sealed, id)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := ssh.ParseRawPrivateKey(pemBytes)
		if err != nil {
			t.Fatal(err)
		}
		var secret []byte
		switch k := raw.(type) {
		case *ed25519.PrivateKey:
			secret = k.Seed()
		case *ecdsa.PrivateKey:
			secret = k.D.Bytes()
		case *rsa.PrivateKey:
			secret = k.D.Bytes()
		default:
			t.Fatalf("key %s: %T", id, raw)
		}
		needles = append(needles, secret, []byte(hex.EncodeToString(secret)),
			[]byte(base64.StdEncoding.EncodeToString(secret)), []byte(base64.RawURLEncoding.EncodeToString(secret)))
		n++
	}
	rows.Close()
	if n != 5 {
		t.Fatalf("%d CA keys, want 5", n)
	}

	search := func(where string, data []byte) {
		for _, needle := range needles {
			if bytes.Contains(data, needle) {
				t.Errorf("private key material (%.20q...) in the clear in %s", needle, where)
			}
		}
	}
	files := 0
	filepath.WalkDir(srv.DataDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if d.Name() == KEKFileName {
			t.Errorf("a KEK was generated in the data directory despite --sshca-kek-file")
		}
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		files++
		search(p, data)
		return nil
	})
	if files == 0 {
		t.Fatal("no files in the data directory")
	}
	for _, table := range []string{"sshca_cas", "sshca_ca_keys", "sshca_policies", "sshca_certs", "sshca_revocations", "sshca_meta", "audit_log"} {
		search("table "+table, dumpTable(t, a, table))
	}
	for _, path := range []string{"/api/v1/sshca/cas", "/api/v1/sshca/certs", "/api/v1/sshca/ca-pubkey", "/sshca"} {
		search(path, srv.Do("GET", path, srv.AdminToken, nil).Body)
	}
}

// dumpTable returns every value of every row of a table, as bytes.
func dumpTable(t *testing.T, a *Authority, table string) []byte {
	t.Helper()
	rows, err := a.store.QueryContext(context.Background(), "SELECT * FROM "+table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out bytes.Buffer
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for _, v := range vals {
			switch x := v.(type) {
			case []byte:
				out.Write(x)
			case string:
				out.WriteString(x)
			}
			out.WriteByte(0)
		}
	}
	return out.Bytes()
}
