package certs_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"net/http"
	"strings"
	"testing"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/internal/platform/seal"
	"github.com/gaffer-sre/gaffer/internal/platform/store"
	"github.com/gaffer-sre/gaffer/security/certs"
)

// legacyCertsBlob seals der as the certificate manager did before
// internal/platform/seal (docs/certs.md, "Keys at rest"): nonce (12 bytes)
// | AES-256-GCM ciphertext with the label as additional data, and beside it
// the key's ID "kek-" + hex(SHA-256("gaffer certs kek\x00" + key)[:6]).
func legacyCertsBlob(t *testing.T, kek, der []byte, label string) (blob []byte, kekID string) {
	t.Helper()
	block, err := aes.NewCipher(kek)
	if err != nil {
		t.Fatal(err)
	}
	aead, _ := cipher.NewGCM(block)
	nonce := make([]byte, 12)
	rand.Read(nonce)
	sum := sha256.Sum256(append([]byte("gaffer certs kek\x00"), kek...))
	return aead.Seal(nonce, nonce, der, []byte(label)), "kek-" + hex.EncodeToString(sum[:6])
}

// pemKey returns the DER of the PRIVATE KEY block of an export.
func pemKey(t *testing.T, export []byte) []byte {
	t.Helper()
	for rest := export; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			t.Fatalf("no PRIVATE KEY in the export %q", export)
		} else if b.Type == "PRIVATE KEY" {
			return b.Bytes
		}
	}
}

type sealedRow struct {
	blob []byte
	id   string
}

func readSealed(t *testing.T, st *store.Store, table, key, value string) sealedRow {
	t.Helper()
	var r sealedRow
	if err := st.QueryRowContext(t.Context(), `SELECT sealed_key, kek_id FROM `+table+` WHERE `+key+` = ?`, value).
		Scan(&r.blob, &r.id); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestLegacySealedKeysMigrateOnStart stores an authority's and a
// certificate's keys in the pre-keyring format, restarts, and checks that
// the start re-sealed them in the keyring's format under the same key,
// that they export unchanged and sign, and that a second start changes
// nothing.
func TestLegacySealedKeysMigrateOnStart(t *testing.T) {
	platformtest.EachBackend(t, testLegacySealedKeysMigrate)
}

func testLegacySealedKeysMigrate(t *testing.T, b platformtest.Backend) {
	dir := t.TempDir()
	kek := bytes.Repeat([]byte{0x4b}, 32)
	t.Setenv(certs.KEKEnv, base64.StdEncoding.EncodeToString(kek))
	srv, tok := startPKI(t, platformtest.Options{Backend: b, DataDir: dir})
	c := issue(t, srv, tok, certs.IssueRequest{CommonName: "legacy.example.test"})
	certExport := mustDo(t, srv, "POST", "/api/v1/certs/certificates/"+c.Serial+"/export", tok, nil, http.StatusOK).Body
	rootExport := mustDo(t, srv, "POST", "/api/v1/certs/authorities/root/export", tok, nil, http.StatusOK).Body
	issuingExport := mustDo(t, srv, "POST", "/api/v1/certs/authorities/issuing/export", tok, nil, http.StatusOK).Body
	rows := []struct {
		table, key, value, label string
		export                   []byte
	}{
		{"certs_certificates", "serial", c.Serial, "cert:" + c.Serial, certExport},
		{"certs_authorities", "name", "root", "authority:root", rootExport},
		{"certs_authorities", "name", "issuing", "authority:issuing", issuingExport},
	}
	st := srv.Deps().Store
	for _, r := range rows {
		blob, id := legacyCertsBlob(t, kek, pemKey(t, r.export), r.label)
		if _, err := st.ExecContext(t.Context(), `UPDATE `+r.table+` SET sealed_key = ?, kek_id = ? WHERE `+r.key+` = ?`,
			blob, id, r.value); err != nil {
			t.Fatal(err)
		}
	}
	srv.Shutdown()

	srv2 := platformtest.Start(t, platformtest.Options{Backend: b, DataDir: dir})
	want := seal.KeyID(kek)
	migrated := map[string]sealedRow{}
	for _, r := range rows {
		got := readSealed(t, srv2.Deps().Store, r.table, r.key, r.value)
		b, err := seal.ParseBlob(got.blob)
		if err != nil || b.KeyID != want || got.id != want {
			t.Errorf("%s %s after the start: kek_id %s, blob names %q (%v); want both %s", r.table, r.value, got.id, b.KeyID, err, want)
		}
		migrated[r.value] = got
	}
	after := mustDo(t, srv2, "POST", "/api/v1/certs/certificates/"+c.Serial+"/export", srv2.AdminToken, nil, http.StatusOK).Body
	if !bytes.Equal(pemKey(t, after), pemKey(t, certExport)) {
		t.Error("the certificate's key changed across the migration")
	}
	rootAfter := mustDo(t, srv2, "POST", "/api/v1/certs/authorities/root/export", srv2.AdminToken, nil, http.StatusOK).Body
	if !bytes.Equal(pemKey(t, rootAfter), pemKey(t, rootExport)) {
		t.Error("the root's key changed across the migration")
	}
	issue(t, srv2, srv2.AdminToken, certs.IssueRequest{CommonName: "after-migration.example.test"})
	srv2.Shutdown()

	srv3 := platformtest.Start(t, platformtest.Options{Backend: b, DataDir: dir})
	for _, r := range rows {
		if got := readSealed(t, srv3.Deps().Store, r.table, r.key, r.value); !bytes.Equal(got.blob, migrated[r.value].blob) {
			t.Errorf("%s %s was re-sealed again by a second start", r.table, r.value)
		}
	}
}

// TestLegacyMigrationAllOrNothing: a key sealed under a key-encryption
// key the server no longer has fails the re-seal with an error naming the
// row and the key, and the rows before it stay as they were.
func TestLegacyMigrationAllOrNothing(t *testing.T) {
	platformtest.EachBackend(t, testLegacyMigrationAllOrNothing)
}

func testLegacyMigrationAllOrNothing(t *testing.T, b platformtest.Backend) {
	kek := bytes.Repeat([]byte{0x4c}, 32)
	t.Setenv(certs.KEKEnv, base64.StdEncoding.EncodeToString(kek))
	srv, tok := startPKI(t, platformtest.Options{Backend: b})
	c := issue(t, srv, tok, certs.IssueRequest{CommonName: "lost.example.test"})
	rootExport := mustDo(t, srv, "POST", "/api/v1/certs/authorities/root/export", tok, nil, http.StatusOK).Body
	st := srv.Deps().Store
	rootBlob, rootID := legacyCertsBlob(t, kek, pemKey(t, rootExport), "authority:root")
	lostBlob, lostID := legacyCertsBlob(t, bytes.Repeat([]byte{0x99}, 32), []byte("whatever"), "cert:"+c.Serial)
	st.ExecContext(t.Context(), `UPDATE certs_authorities SET sealed_key = ?, kek_id = ? WHERE name = 'root'`, rootBlob, rootID)
	st.ExecContext(t.Context(), `UPDATE certs_certificates SET sealed_key = ?, kek_id = ? WHERE serial = ?`, lostBlob, lostID, c.Serial)
	kr, err := seal.New(certs.Name, "test", kek)
	if err != nil {
		t.Fatal(err)
	}
	_, err = certs.NewManager(certs.ManagerOptions{Store: st, Keys: kr}).Rewrap(t.Context())
	if err == nil || !strings.Contains(err.Error(), "certs_certificates row "+c.Serial) || !strings.Contains(err.Error(), lostID) {
		t.Fatalf("Rewrap with a key sealed under a missing KEK: %v; want an error naming the row and %s", err, lostID)
	}
	if got := readSealed(t, st, "certs_authorities", "name", "root"); got.id != rootID || !bytes.Equal(got.blob, rootBlob) {
		t.Errorf("the root was re-sealed (kek_id %s) by a re-seal that failed", got.id)
	}
}
