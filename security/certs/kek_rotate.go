package certs

import (
	"context"
	"fmt"

	"github.com/gaffer-sre/gaffer/internal/platform/store"
)

// Rewrap re-seals every stored private key that is not sealed with the
// current key-encryption key, and returns how many it re-sealed.
func (m *Manager) Rewrap(ctx context.Context) (int, error) {
	cur := m.keys.CurrentID()
	n := 0
	for _, t := range []struct{ table, key, label string }{
		{"certs_authorities", "name", "authority:"},
		{"certs_certificates", "serial", "cert:"},
		{"certs_acme_eab_keys", "id", "acme-eab:"},
	} {
		err := m.store.InTx(ctx, func(tx *store.Tx) error {
			rows, err := tx.QueryContext(ctx, `SELECT `+t.key+`, sealed_key, kek_id FROM `+t.table+`
				WHERE sealed_key IS NOT NULL AND kek_id <> ?`, cur)
			if err != nil {
				return err
			}
			type item struct {
				key, kek string
				sealed   []byte
			}
			var items []item
			for rows.Next() {
				var it item
				if err := rows.Scan(&it.key, &it.sealed, &it.kek); err != nil {
					rows.Close()
					return err
				}
				items = append(items, it)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			for _, it := range items {
				pt, err := m.keys.Open(it.sealed, it.kek, t.label+it.key)
				if err != nil {
					return err
				}
				sealed, id, err := m.keys.Seal(pt, t.label+it.key)
				clear(pt)
				if err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, `UPDATE `+t.table+` SET sealed_key = ?, kek_id = ? WHERE `+t.key+` = ?`,
					sealed, id, it.key); err != nil {
					return err
				}
				n++
			}
			return nil
		})
		if err != nil {
			return n, fmt.Errorf("rewrap %s: %w", t.table, err)
		}
	}
	return n, nil
}

// RotateKEK generates a new key-encryption key in Gaffer's own key file,
// re-seals every private key under it and then forgets the old keys. With
// keys supplied by the operator it fails with ErrKEKNotManaged: rotate
// there (the new key first, the old one after it) and call Rewrap.
func (m *Manager) RotateKEK(ctx context.Context) (string, int, error) {
	id, err := m.keys.Rotate()
	if err != nil {
		return "", 0, err
	}
	n, err := m.Rewrap(ctx)
	if err != nil {
		return id, n, err
	}
	if err := m.keys.Forget(); err != nil {
		return id, n, err
	}
	return id, n, nil
}
