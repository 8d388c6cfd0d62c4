package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gaffer-sre/gaffer/internal/platform/store"
)

// testLegacy is a pre-keyring format like the ones certs and sshca used.
var testLegacy = Legacy{Magic: []byte("old1"), AADPrefix: "old:", IDPrefix: "k-", IDDomain: "old kek\x00", IDBytes: 6}

// legacyBlob seals pt in testLegacy's documented format, with the cipher
// directly, and returns the blob and the key's legacy ID.
func legacyBlob(t *testing.T, raw, pt []byte, label string) ([]byte, string) {
	t.Helper()
	block, _ := aes.NewCipher(raw)
	aead, _ := cipher.NewGCM(block)
	nonce := make([]byte, 12)
	nonce[0] = 7
	blob := append(append([]byte("old1"), nonce...), aead.Seal(nil, nonce, pt, []byte("old:"+label))...)
	return blob, testLegacy.keyID(raw)
}

func openTestStore(t *testing.T) *store.Store {
	t.Helper()
	s, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "seal.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.ExecContext(t.Context(), `CREATE TABLE secrets (name TEXT PRIMARY KEY, sealed BLOB, kek_id TEXT NOT NULL DEFAULT '')`); err != nil {
		t.Fatal(err)
	}
	return s
}

var testColumn = Column{Table: "secrets", Key: "name", Sealed: "sealed", KeyID: "kek_id",
	Label: func(k string) string { return "secret:" + k }, Legacy: &testLegacy}

func reseal(t *testing.T, s *store.Store, kr *Keyring) (int, error) {
	t.Helper()
	var n int
	err := s.InTx(t.Context(), func(tx *store.Tx) error {
		var err error
		n, err = kr.Reseal(t.Context(), tx, testColumn)
		return err
	})
	return n, err
}

// TestResealMigratesLegacy stores rows in a legacy format, under an older
// keyring key and under the current key, re-seals, and opens every row
// under the current key; a second run changes nothing.
func TestResealMigratesLegacy(t *testing.T) {
	ctx := t.Context()
	s := openTestStore(t)
	kr := mustKeyring(t, "test", rawKey(1), rawKey(2))
	old := mustKeyring(t, "test", rawKey(2))
	legacy, legacyID := legacyBlob(t, rawKey(2), []byte("legacy secret"), "secret:a")
	underOld, oldID, _ := old.Seal([]byte("old secret"), "secret:b")
	current, curID, _ := kr.Seal([]byte("current secret"), "secret:c")
	for _, r := range []struct {
		name string
		blob []byte
		id   string
	}{{"a", legacy, legacyID}, {"b", underOld, oldID}, {"c", current, curID}, {"d", nil, ""}} {
		if _, err := s.ExecContext(ctx, `INSERT INTO secrets VALUES (?, ?, ?)`, r.name, r.blob, r.id); err != nil {
			t.Fatal(err)
		}
	}
	n, err := reseal(t, s, kr)
	if err != nil || n != 2 {
		t.Fatalf("Reseal = %d, %v; want the legacy row and the one under the old key", n, err)
	}
	onlyCurrent := mustKeyring(t, "test", rawKey(1))
	for name, want := range map[string]string{"a": "legacy secret", "b": "old secret", "c": "current secret"} {
		var blob []byte
		var id string
		s.QueryRowContext(ctx, `SELECT sealed, kek_id FROM secrets WHERE name = ?`, name).Scan(&blob, &id)
		pt, err := onlyCurrent.Open(blob, "secret:"+name)
		if err != nil || string(pt) != want || id != curID {
			t.Errorf("row %s after Reseal: %q under %s, %v", name, pt, id, err)
		}
	}
	if n, err := reseal(t, s, kr); err != nil || n != 0 {
		t.Errorf("a second Reseal = %d, %v; want nothing to do", n, err)
	}
}

// TestResealAllOrNothing: a row that cannot be opened fails the re-seal,
// names the row and the key, and leaves every row as it was.
func TestResealAllOrNothing(t *testing.T) {
	ctx := t.Context()
	s := openTestStore(t)
	kr := mustKeyring(t, "test", rawKey(1), rawKey(2))
	good, goodID := legacyBlob(t, rawKey(2), []byte("fine"), "secret:a")
	lost, lostID := legacyBlob(t, rawKey(9), []byte("lost"), "secret:b")
	s.ExecContext(ctx, `INSERT INTO secrets VALUES ('a', ?, ?), ('b', ?, ?)`, good, goodID, lost, lostID)
	_, err := reseal(t, s, kr)
	if err == nil || !strings.Contains(err.Error(), "row b") || !strings.Contains(err.Error(), lostID) {
		t.Fatalf("Reseal with a row under a missing key: %v, want an error naming row b and key %s", err, lostID)
	}
	var id string
	s.QueryRowContext(ctx, `SELECT kek_id FROM secrets WHERE name = 'a'`).Scan(&id)
	if id != goodID {
		t.Errorf("row a was re-sealed (kek_id %s) by a re-seal that failed", id)
	}
	noLegacy := testColumn
	noLegacy.Legacy = nil
	err = s.InTx(ctx, func(tx *store.Tx) error { _, err := kr.Reseal(ctx, tx, noLegacy); return err })
	if err == nil || !strings.Contains(err.Error(), "not a sealed blob") {
		t.Errorf("Reseal of a legacy row without a Legacy format: %v", err)
	}
}
