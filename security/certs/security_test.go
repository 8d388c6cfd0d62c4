package certs_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/security/certs"
)

// keyNeedles returns byte strings that would betray a private key found
// in the clear: its PKCS #8 DER, the base64 of its PEM body, and for ECDSA
// its private scalar.
func keyNeedles(t *testing.T, exported []byte) [][]byte {
	t.Helper()
	var out [][]byte
	for rest := exported; ; {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		if blk.Type != "PRIVATE KEY" {
			continue
		}
		out = append(out, blk.Bytes, []byte(base64.StdEncoding.EncodeToString(blk.Bytes)[:64]))
		k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		if ek, ok := k.(*ecdsa.PrivateKey); ok {
			d, _ := ek.Bytes()
			out = append(out, d)
		}
	}
	if len(out) == 0 {
		t.Fatal("no private key in the export")
	}
	return out
}

// TestNoPrivateKeyInTheClear issues certificates and authorities with
// generated keys, then searches every file of the data directory (the
// SQLite database and its WAL included) and every column of Gaffer's
// certificate tables for those keys in any form.
func TestNoPrivateKeyInTheClear(t *testing.T) {
	platformtest.EachBackend(t, func(t *testing.T, backend platformtest.Backend) {
		srv, tok := startPKI(t, platformtest.Options{Backend: backend})
		var needles [][]byte
		for _, kt := range []string{"", certs.KeyRSA2048, certs.KeyEd25519, certs.KeyECDSAP384} {
			c := issue(t, srv, tok, certs.IssueRequest{CommonName: "k.example.test", KeyType: kt})
			needles = append(needles, keyNeedles(t, mustDo(t, srv, "POST", "/api/v1/certs/certificates/"+c.Serial+"/export", tok, nil, http.StatusOK).Body)...)
		}
		for _, a := range []string{"root", "issuing"} {
			needles = append(needles, keyNeedles(t, mustDo(t, srv, "POST", "/api/v1/certs/authorities/"+a+"/export", tok, nil, http.StatusOK).Body)...)
		}
		files := 0
		filepath.WalkDir(srv.DataDir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || filepath.Base(p) == certs.KEKFileName {
				return nil
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return nil
			}
			files++
			for _, n := range needles {
				if bytes.Contains(b, n) {
					t.Errorf("%s holds a private key in the clear", p)
				}
			}
			return nil
		})
		rows := 0
		for _, table := range []string{"certs_authorities", "certs_certificates", "certs_destinations", "audit_log"} {
			r, err := srv.Deps().Store.QueryContext(t.Context(), "SELECT * FROM "+table)
			if err != nil {
				t.Fatal(err)
			}
			cols, _ := r.Columns()
			for r.Next() {
				vals := make([]any, len(cols))
				ptrs := make([]any, len(cols))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				if err := r.Scan(ptrs...); err != nil {
					t.Fatal(err)
				}
				rows++
				for i, v := range vals {
					var b []byte
					switch x := v.(type) {
					case []byte:
						b = x
					case string:
						b = []byte(x)
					}
					for _, n := range needles {
						if bytes.Contains(b, n) {
							t.Errorf("%s.%s holds a private key in the clear", table, cols[i])
						}
					}
					if strings.Contains(string(b), "PRIVATE KEY") {
						t.Errorf("%s.%s holds a PEM private key", table, cols[i])
					}
				}
			}
			r.Close()
		}
		t.Logf("searched %d files and %d rows for %d key encodings", files, rows, len(needles))
		if st, err := os.Stat(filepath.Join(srv.DataDir, certs.KEKFileName)); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("key-encryption key file: %v %v", st, err)
		}
	})
}

// TestKEKRotation rotates the key-encryption key, checks every sealed key
// moved to it, and restarts on the same data directory to use them.
func TestKEKRotation(t *testing.T) {
	dir := t.TempDir()
	srv, tok := startPKI(t, platformtest.Options{DataDir: dir})
	c := issue(t, srv, tok, certs.IssueRequest{CommonName: "kek.example.test"})
	before := mustDo(t, srv, "POST", "/api/v1/certs/certificates/"+c.Serial+"/export", tok, nil, http.StatusOK).Body
	oldFile, _ := os.ReadFile(filepath.Join(dir, certs.KEKFileName))
	var res certs.KEKRotateResponse
	mustDo(t, srv, "POST", "/api/v1/certs/kek/rotate", tok, nil, http.StatusOK).JSON(t, &res)
	if res.Rewrapped != 3 { // root, intermediate, one certificate
		t.Errorf("rewrapped %d keys, want 3", res.Rewrapped)
	}
	var stale int
	srv.Deps().Store.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM certs_certificates WHERE sealed_key IS NOT NULL AND kek_id <> ?`, res.KEKID).Scan(&stale)
	if stale != 0 {
		t.Errorf("%d keys still sealed with the old key", stale)
	}
	newFile, _ := os.ReadFile(filepath.Join(dir, certs.KEKFileName))
	if bytes.Equal(oldFile, newFile) || strings.Count(strings.TrimSpace(string(newFile)), "\n") != 0 {
		t.Errorf("key file after rotation: %q", newFile)
	}
	srv.Shutdown()
	srv2 := platformtest.Start(t, platformtest.Options{DataDir: dir})
	after := mustDo(t, srv2, "POST", "/api/v1/certs/certificates/"+c.Serial+"/export", srv2.AdminToken, nil, http.StatusOK).Body
	if !bytes.Equal(before, after) {
		t.Error("the exported key changed across the rotation")
	}
	issue(t, srv2, srv2.AdminToken, certs.IssueRequest{CommonName: "after.example.test"})
	// With the operator's keys, rotation is refused: they rotate them.
	t.Setenv(certs.KEKEnv, base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)))
	srv3 := platformtest.Start(t, platformtest.Options{})
	if resp := srv3.Do("POST", "/api/v1/certs/kek/rotate", srv3.AdminToken, nil); resp.Status != http.StatusConflict {
		t.Errorf("rotation of an operator's key: %d %s", resp.Status, resp.Body)
	}
}

// TestKEKRotationByOperator restarts with a new operator key first and
// the old one after it: the start re-seals everything, after which the new
// key alone opens every key.
func TestKEKRotationByOperator(t *testing.T) {
	dir := t.TempDir()
	oldKey := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32))
	newKey := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{2}, 32))
	t.Setenv(certs.KEKEnv, oldKey)
	srv, tok := startPKI(t, platformtest.Options{DataDir: dir})
	c := issue(t, srv, tok, certs.IssueRequest{CommonName: "op.example.test"})
	srv.Shutdown()
	t.Setenv(certs.KEKEnv, newKey)
	t.Setenv(certs.KEKPreviousEnv, oldKey)
	srv2 := platformtest.Start(t, platformtest.Options{DataDir: dir})
	srv2.Shutdown()
	t.Setenv(certs.KEKPreviousEnv, "")
	srv3 := platformtest.Start(t, platformtest.Options{DataDir: dir})
	mustDo(t, srv3, "POST", "/api/v1/certs/certificates/"+c.Serial+"/export", srv3.AdminToken, nil, http.StatusOK)
	issue(t, srv3, srv3.AdminToken, certs.IssueRequest{CommonName: "op2.example.test"})
}
