package sshca

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/gaffer-sre/gaffer/internal/platform/audit"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/internal/platform/seal"
)

func TestLoadKeyring(t *testing.T) {
	dir := t.TempDir()
	kr, generated, err := LoadKeyring("", "", "", "", dir)
	if err != nil || !generated || !kr.Managed() {
		t.Fatalf("generate: %v %v", generated, err)
	}
	st, err := os.Stat(filepath.Join(dir, KEKFileName))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("generated KEK file: %v mode %v", err, st.Mode())
	}
	again, generated, err := LoadKeyring("", "", "", "", dir)
	if err != nil || generated || again.CurrentID() != kr.CurrentID() {
		t.Fatalf("reload: generated %v, id %s vs %s, %v", generated, again.CurrentID(), kr.CurrentID(), err)
	}
	fromFile, _, err := LoadKeyring("", "", filepath.Join(dir, KEKFileName), "", t.TempDir())
	if err != nil || fromFile.CurrentID() != kr.CurrentID() || fromFile.Managed() {
		t.Fatalf("from file: %v", err)
	}
	one, two := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	fromEnv, _, err := LoadKeyring(hex.EncodeToString(one), base64.StdEncoding.EncodeToString(two), filepath.Join(dir, "missing"), "", dir)
	if err != nil || strings.Join(fromEnv.IDs(), " ") != seal.KeyID(one)+" "+seal.KeyID(two) || fromEnv.Source() != "$"+KEKEnv {
		t.Fatalf("the key itself, with the previous one, should win over files: %v %v", fromEnv, err)
	}
	if _, _, err := LoadKeyring("c2hvcnQ=", "", "", "", dir); err == nil || !strings.Contains(err.Error(), "32 bytes") ||
		!strings.Contains(err.Error(), "$"+KEKEnv) {
		t.Fatalf("short key: %v", err)
	}
	if _, _, err := LoadKeyring("", "", filepath.Join(dir, "missing"), "", dir); err == nil || !strings.Contains(err.Error(), "--sshca-kek-file") {
		t.Fatalf("missing KEK file: %v", err)
	}
}

// TestLoadKeyringFromCommand is issue #15 item 13: the key can come from a
// command (a KMS or vault client), which then wins over the data
// directory and creates no key file there.
func TestLoadKeyringFromCommand(t *testing.T) {
	dir := t.TempDir()
	raw := bytes.Repeat([]byte{7}, 32)
	kr, generated, err := LoadKeyring("", "", "", `test "$1" = sshca && echo `+hex.EncodeToString(raw), dir)
	if err != nil || generated || kr.CurrentID() != seal.KeyID(raw) || kr.Source() != "--kek-command" {
		t.Fatalf("from command: generated=%v %v", generated, err)
	}
	if _, err := os.Stat(filepath.Join(dir, KEKFileName)); !os.IsNotExist(err) {
		t.Fatalf("a key file was written beside a key command: %v", err)
	}
	if _, _, err := LoadKeyring("", "", "", "echo vault sealed >&2; exit 2", dir); err == nil ||
		!strings.Contains(err.Error(), "vault sealed") || !strings.Contains(err.Error(), "kek-command") {
		t.Fatalf("failing command: %v", err)
	}
	if _, _, err := LoadKeyring("", "", "", "echo not-a-key", dir); err == nil || !strings.Contains(err.Error(), "32 bytes") {
		t.Fatalf("command printing a bad key: %v", err)
	}
}

// startWithKey starts the SSH CA on b and dir with the operator's keys in
// the environment (current, previous comma-separated; "" generates one in
// dir).
func startWithKey(t *testing.T, b platformtest.Backend, dir, current, previous string) *testServer {
	t.Helper()
	t.Setenv(KEKEnv, current)
	t.Setenv(KEKPreviousEnv, previous)
	t.Setenv(KEKFileEnv, "")
	return &testServer{Server: platformtest.Start(t, platformtest.Options{Backend: b, DataDir: dir, Roles: []string{"sshca"}}), t: t}
}

// signedBy signs a user certificate for alice and returns the CA key
// that signed it.
func (s *testServer) signedBy() ssh.PublicKey {
	s.t.Helper()
	_, cert := mustCert(s.t, s.sign(s.identityToken("alice", ScopeSign), SignRequest{PublicKey: pubLine(newUserKey(s.t).PublicKey())}))
	return cert.SignatureKey
}

type caKeyRow struct {
	blob []byte
	id   string
}

func (s *testServer) caKeyRows() map[string]caKeyRow {
	s.t.Helper()
	rows, err := s.Deps().Store.QueryContext(s.t.Context(), `SELECT id, sealed_private_key, kek_id FROM sshca_ca_keys`)
	if err != nil {
		s.t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]caKeyRow{}
	for rows.Next() {
		var id string
		var r caKeyRow
		if err := rows.Scan(&id, &r.blob, &r.id); err != nil {
			s.t.Fatal(err)
		}
		out[id] = r
	}
	return out
}

// legacySSHCABlob seals pemBytes as the SSH CA did before
// internal/platform/seal (docs/sshca.md): "gsk1" | nonce (12 bytes) |
// AES-256-GCM ciphertext with "gaffer-sshca-key:" + the CA key's ID as
// additional data, and beside it the key's ID
// hex(SHA-256("gaffer-sshca-kek-id:" + key)[:8]).
func legacySSHCABlob(t *testing.T, kek, pemBytes []byte, caKeyID string) (blob []byte, kekID string) {
	t.Helper()
	block, err := aes.NewCipher(kek)
	if err != nil {
		t.Fatal(err)
	}
	aead, _ := cipher.NewGCM(block)
	nonce := make([]byte, 12)
	rand.Read(nonce)
	blob = append([]byte("gsk1"), nonce...)
	sum := sha256.Sum256(append([]byte("gaffer-sshca-kek-id:"), kek...))
	return aead.Seal(blob, nonce, pemBytes, []byte("gaffer-sshca-key:"+caKeyID)), hex.EncodeToString(sum[:8])
}

// TestLegacyCAKeysMigrateOnStart replaces the user CA's key with one
// sealed in the pre-keyring format, restarts, and checks that the start
// re-sealed it in the keyring's format, that it signs, and that a second
// start changes nothing.
func TestLegacyCAKeysMigrateOnStart(t *testing.T) {
	platformtest.EachBackend(t, testLegacyCAKeysMigrate)
}

func testLegacyCAKeysMigrate(t *testing.T, b platformtest.Backend) {
	dir := t.TempDir()
	kek := bytes.Repeat([]byte{0x5a}, 32)
	kekText := base64.StdEncoding.EncodeToString(kek)
	srv := startWithKey(t, b, dir, kekText, "")
	ca, err := srv.service().Authority().GetCA(t.Context(), UserCert)
	if err != nil {
		t.Fatal(err)
	}
	keyID := ca.Keys[0].ID
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	block, err := ssh.MarshalPrivateKey(priv, "legacy")
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := ssh.NewSignerFromKey(priv)
	blob, legacyID := legacySSHCABlob(t, kek, pem.EncodeToMemory(block), keyID)
	if _, err := srv.Deps().Store.ExecContext(t.Context(), `UPDATE sshca_ca_keys
		SET sealed_private_key = ?, kek_id = ?, public_key = ?, fingerprint = ? WHERE id = ?`,
		blob, legacyID, authorizedLine(signer.PublicKey(), "legacy"), ssh.FingerprintSHA256(signer.PublicKey()), keyID); err != nil {
		t.Fatal(err)
	}
	srv.Shutdown()

	srv2 := startWithKey(t, b, dir, kekText, "")
	rows := srv2.caKeyRows()
	for id, r := range rows {
		b, err := seal.ParseBlob(r.blob)
		if err != nil || b.KeyID != seal.KeyID(kek) || r.id != seal.KeyID(kek) {
			t.Errorf("CA key %s after the start: kek_id %s, blob names %q (%v); want both %s", id, r.id, b.KeyID, err, seal.KeyID(kek))
		}
	}
	if got := srv2.signedBy(); !bytes.Equal(got.Marshal(), signer.PublicKey().Marshal()) {
		t.Error("the migrated user CA key does not sign")
	}
	srv2.Shutdown()

	srv3 := startWithKey(t, b, dir, kekText, "")
	for id, r := range srv3.caKeyRows() {
		if !bytes.Equal(r.blob, rows[id].blob) {
			t.Errorf("CA key %s was re-sealed again by a second start", id)
		}
	}
}

// TestLegacyMigrationAllOrNothing: a CA key sealed under a key-encryption
// key the server does not have fails the re-seal with an error naming the
// row and the key, and leaves every row as it was.
func TestLegacyMigrationAllOrNothing(t *testing.T) {
	platformtest.EachBackend(t, testLegacyMigrationAllOrNothing)
}

func testLegacyMigrationAllOrNothing(t *testing.T, b platformtest.Backend) {
	kek := bytes.Repeat([]byte{0x5b}, 32)
	srv := startWithKey(t, b, t.TempDir(), base64.StdEncoding.EncodeToString(kek), "")
	a := srv.service().Authority()
	user, _ := a.GetCA(t.Context(), UserCert)
	host, _ := a.GetCA(t.Context(), HostCert)
	goodBlob, goodID := legacySSHCABlob(t, kek, []byte("fine"), user.Keys[0].ID)
	lostBlob, lostID := legacySSHCABlob(t, bytes.Repeat([]byte{0x99}, 32), []byte("lost"), host.Keys[0].ID)
	st := srv.Deps().Store
	st.ExecContext(t.Context(), `UPDATE sshca_ca_keys SET sealed_private_key = ?, kek_id = ? WHERE id = ?`, goodBlob, goodID, user.Keys[0].ID)
	st.ExecContext(t.Context(), `UPDATE sshca_ca_keys SET sealed_private_key = ?, kek_id = ? WHERE id = ?`, lostBlob, lostID, host.Keys[0].ID)
	_, err := a.Rewrap(t.Context())
	if err == nil || !strings.Contains(err.Error(), "sshca_ca_keys row "+host.Keys[0].ID) || !strings.Contains(err.Error(), lostID) {
		t.Fatalf("Rewrap with a key sealed under a missing KEK: %v; want an error naming the row and %s", err, lostID)
	}
	if r := srv.caKeyRows()[user.Keys[0].ID]; r.id != goodID || !bytes.Equal(r.blob, goodBlob) {
		t.Errorf("the user CA key was re-sealed (kek_id %s) by a re-seal that failed", r.id)
	}
}

// TestKEKRotation rotates the generated key-encryption key through the
// API (admin only, audited), checks every CA key moved to it and the old
// key left the file, rotates again with `gaffer sshca kek rotate`, and
// restarts to sign with the re-sealed keys.
func TestKEKRotation(t *testing.T) {
	platformtest.EachBackend(t, testKEKRotation)
}

func testKEKRotation(t *testing.T, b platformtest.Backend) {
	dir := t.TempDir()
	srv := startWithKey(t, b, dir, "", "")
	before := srv.signedBy()
	oldFile, _ := os.ReadFile(filepath.Join(dir, KEKFileName))
	for _, c := range []struct {
		token string
		want  int
	}{{"", http.StatusUnauthorized}, {srv.Token(ScopeWrite, ScopeSign), http.StatusForbidden}} {
		if resp := srv.Do("POST", "/api/v1/sshca/kek/rotate", c.token, nil); resp.Status != c.want {
			t.Errorf("rotation with token %q: %d, want %d", c.token, resp.Status, c.want)
		}
	}
	var res KEKRotateResponse
	if resp := srv.Do("POST", "/api/v1/sshca/kek/rotate", srv.AdminToken, nil); resp.Status != http.StatusOK {
		t.Fatalf("rotate: %d %s", resp.Status, resp.Body)
	} else {
		resp.JSON(t, &res)
	}
	if res.Rewrapped != 2 || res.KEKID == "" { // the user and host CAs' keys
		t.Errorf("rotation = %+v, want 2 keys re-sealed", res)
	}
	for id, r := range srv.caKeyRows() {
		if r.id != res.KEKID {
			t.Errorf("CA key %s still sealed with %s", id, r.id)
		}
	}
	newFile, _ := os.ReadFile(filepath.Join(dir, KEKFileName))
	if bytes.Equal(oldFile, newFile) || strings.Count(strings.TrimSpace(string(newFile)), "\n") != 0 {
		t.Errorf("key file after rotation: %q", newFile)
	}
	entries, _, err := srv.Deps().Audit.List(t.Context(), audit.Filter{Action: "sshca.kek.rotate", Outcome: "success"})
	if err != nil || len(entries) != 1 || entries[0].Actor != "admin" || !strings.Contains(entries[0].Detail, res.KEKID) {
		t.Errorf("rotation audit: %v %+v", err, entries)
	}
	if denied, _, err := srv.Deps().Audit.List(t.Context(), audit.Filter{Action: "sshca.kek.rotate", Outcome: "denied"}); err != nil || len(denied) != 2 {
		t.Errorf("refused rotations audited: %v %+v, want 2", err, denied)
	}
	// The CLI verb rotates again.
	var out bytes.Buffer
	cmd := newSSHCACommand()
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"kek", "rotate", "--server", srv.URL, "--token", srv.AdminToken})
	if err := cmd.ExecuteContext(t.Context()); err != nil || !strings.Contains(out.String(), "re-sealed 2 CA keys") {
		t.Fatalf("gaffer sshca kek rotate: %q, %v", out.String(), err)
	}
	srv.Shutdown()
	srv2 := startWithKey(t, b, dir, "", "")
	if got := srv2.signedBy(); !bytes.Equal(got.Marshal(), before.Marshal()) {
		t.Error("the user CA's key changed across the rotations")
	}
	// With the operator's key, rotation is refused: they rotate it.
	srv3 := startWithKey(t, platformtest.Backend{}, t.TempDir(), base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)), "")
	if resp := srv3.Do("POST", "/api/v1/sshca/kek/rotate", srv3.AdminToken, nil); resp.Status != http.StatusConflict ||
		resp.ErrorCode() != "kek_not_managed" {
		t.Errorf("rotation of an operator's key: %d %s", resp.Status, resp.Body)
	}
}

// TestKEKRotationByOperator restarts with a new operator key first and
// the old one in $GAFFER_SSHCA_KEK_PREVIOUS: the start re-seals every CA
// key, after which the new key alone opens them.
func TestKEKRotationByOperator(t *testing.T) {
	dir := t.TempDir()
	oldKey := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32))
	newKey := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{2}, 32))
	srv := startWithKey(t, platformtest.Backend{}, dir, oldKey, "")
	before := srv.signedBy()
	srv.Shutdown()
	startWithKey(t, platformtest.Backend{}, dir, newKey, oldKey).Shutdown()
	srv3 := startWithKey(t, platformtest.Backend{}, dir, newKey, "")
	if got := srv3.signedBy(); !bytes.Equal(got.Marshal(), before.Marshal()) {
		t.Error("the user CA's key changed across the operator's rotation")
	}
}
