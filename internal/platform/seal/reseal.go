package seal

import (
	"context"
	"database/sql"
	"fmt"
)

// Column is a table column of sealed blobs with, beside it, a column of
// the IDs of the keys that sealed them.
type Column struct {
	// Table, Key, Sealed and KeyID name the table, its key column, the
	// blob column and the key-ID column.
	Table, Key, Sealed, KeyID string
	// Label returns the label a row's blob is bound to, from its key.
	Label func(key string) string
	// Legacy, when set, opens the blobs sealed before the keyring.
	Legacy *Legacy
}

// Querier is the part of a transaction Reseal uses; its statements take
// "?" placeholders (store.Tx rebinds them).
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

type sealedRow struct {
	key, keyID string
	blob       []byte
}

// Reseal re-seals under the current key every blob of column c that is
// not already sealed by it, in the keyring's format — blobs under an
// older key and blobs in c.Legacy's format alike — and returns how many it
// re-sealed. Run it in a transaction: on error the caller rolls back and
// nothing is half-written. Running it again re-seals nothing.
func (kr *Keyring) Reseal(ctx context.Context, q Querier, c Column) (int, error) {
	cur := kr.CurrentID()
	rows, err := q.QueryContext(ctx, `SELECT `+c.Key+`, `+c.Sealed+`, `+c.KeyID+` FROM `+c.Table+`
		WHERE `+c.Sealed+` IS NOT NULL AND `+c.KeyID+` <> ?`, cur)
	if err != nil {
		return 0, fmt.Errorf("re-seal %s.%s: %w", c.Table, c.Sealed, err)
	}
	var todo []sealedRow
	for rows.Next() {
		var r sealedRow
		if err := rows.Scan(&r.key, &r.blob, &r.keyID); err != nil {
			rows.Close()
			return 0, fmt.Errorf("re-seal %s.%s: %w", c.Table, c.Sealed, err)
		}
		todo = append(todo, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("re-seal %s.%s: %w", c.Table, c.Sealed, err)
	}
	n := 0
	for _, r := range todo {
		label := c.Label(r.key)
		pt, err := kr.openRow(c, r, label)
		if err != nil {
			return n, fmt.Errorf("re-seal %s row %s: %w", c.Table, r.key, err)
		}
		blob, id, err := kr.Seal(pt, label)
		clear(pt)
		if err != nil {
			return n, fmt.Errorf("re-seal %s row %s: %w", c.Table, r.key, err)
		}
		res, err := q.ExecContext(ctx, `UPDATE `+c.Table+` SET `+c.Sealed+` = ?, `+c.KeyID+` = ?
			WHERE `+c.Key+` = ? AND `+c.KeyID+` = ?`, blob, id, r.key, r.keyID)
		if err != nil {
			return n, fmt.Errorf("re-seal %s row %s: %w", c.Table, r.key, err)
		}
		if changed, err := res.RowsAffected(); err == nil {
			n += int(changed)
		}
	}
	return n, nil
}

// openRow opens a row's blob: in the keyring's format when it parses and
// names the key its row names, else in the legacy format.
func (kr *Keyring) openRow(c Column, r sealedRow, label string) ([]byte, error) {
	b, err := ParseBlob(r.blob)
	if err == nil && b.KeyID == r.keyID {
		return kr.Open(r.blob, label)
	}
	if c.Legacy == nil {
		if err == nil {
			err = fmt.Errorf("the blob names key %s but its row names %s", b.KeyID, r.keyID)
		}
		return nil, err
	}
	return kr.OpenLegacy(*c.Legacy, r.blob, r.keyID, label)
}
