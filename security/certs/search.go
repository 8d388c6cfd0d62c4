package certs

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Filter selects inventory entries; zero fields match everything.
type Filter struct {
	// ExpiringWithin selects live certificates (neither revoked nor
	// replaced) that expire within this time and have not expired yet.
	ExpiringWithin time.Duration `json:"expiring_within,omitempty"`
	Owner          string        `json:"owner,omitempty"`
	Team           string        `json:"team,omitempty"`
	Authority      string        `json:"authority,omitempty"`
	Source         string        `json:"source,omitempty"`
	// Domain matches a certificate name exactly, or every name under it
	// when it starts with "." or "*.".
	Domain string `json:"domain,omitempty"`
	// Status is active (neither revoked, expired nor replaced), revoked,
	// expired or replaced.
	Status string `json:"status,omitempty"`
	// Query matches common name, names, owner, team or notes (substring).
	Query string `json:"q,omitempty"`
	// AfterID pages on from a cursor.
	AfterID int64 `json:"-"`
	Limit   int   `json:"-"`
}

// List returns certificates matching f, soonest expiry last by ID order,
// and the ID to continue after (0 at the end).
func (m *Manager) List(ctx context.Context, f Filter) ([]Certificate, int64, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	where, args := m.filterSQL(f)
	if f.AfterID > 0 {
		where = append(where, "id > ?")
		args = append(args, f.AfterID)
	}
	q := `SELECT ` + certColumns + ` FROM certs_certificates`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id LIMIT " + strconv.Itoa(f.Limit+1)
	rows, err := m.store.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("list certificates: %w", err)
	}
	defer rows.Close()
	var out []Certificate
	for rows.Next() {
		c, err := m.scanCert(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("list certificates: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	var next int64
	if len(out) > f.Limit {
		out = out[:f.Limit]
		next = out[len(out)-1].ID
	}
	return out, next, nil
}

// IDs returns the IDs of every certificate matching f (for bulk jobs).
func (m *Manager) IDs(ctx context.Context, f Filter) ([]int64, error) {
	where, args := m.filterSQL(f)
	q := `SELECT id FROM certs_certificates`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := m.store.QueryContext(ctx, q+" ORDER BY id", args...)
	if err != nil {
		return nil, fmt.Errorf("select certificates: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

func (m *Manager) filterSQL(f Filter) ([]string, []any) {
	var where []string
	var args []any
	add := func(cond string, v ...any) { where = append(where, cond); args = append(args, v...) }
	now := m.now().UnixMilli()
	if f.ExpiringWithin > 0 {
		add("not_after > ? AND not_after <= ? AND revoked_at IS NULL AND replaced_by IS NULL", now, m.now().Add(f.ExpiringWithin).UnixMilli())
	}
	if f.Owner != "" {
		add("owner = ?", f.Owner)
	}
	if f.Team != "" {
		add("team = ?", f.Team)
	}
	if f.Authority != "" {
		add("authority = ?", f.Authority)
	}
	if f.Source != "" {
		add("source = ?", f.Source)
	}
	if d := strings.ToLower(f.Domain); d != "" {
		if strings.HasPrefix(d, "*.") || strings.HasPrefix(d, ".") {
			base := strings.TrimPrefix(strings.TrimPrefix(d, "*"), ".")
			add(`id IN (SELECT cert_id FROM certs_names WHERE name = ? OR name LIKE ? ESCAPE '\')`, base, "%."+escapeLike(base))
		} else {
			add("id IN (SELECT cert_id FROM certs_names WHERE name = ?)", d)
		}
	}
	switch f.Status {
	case "active":
		add("revoked_at IS NULL AND replaced_by IS NULL AND not_after > ?", now)
	case "revoked":
		add("revoked_at IS NOT NULL")
	case "expired":
		add("revoked_at IS NULL AND not_after <= ?", now)
	case "replaced":
		add("replaced_by IS NOT NULL")
	}
	if f.Query != "" {
		p := "%" + escapeLike(strings.ToLower(f.Query)) + "%"
		add(`(LOWER(common_name) LIKE ? ESCAPE '\' OR LOWER(names) LIKE ? ESCAPE '\' OR LOWER(owner) LIKE ? ESCAPE '\'
			OR LOWER(team) LIKE ? ESCAPE '\' OR LOWER(notes) LIKE ? ESCAPE '\' OR serial = ?)`, p, p, p, p, p, NormalizeSerial(f.Query))
	}
	return where, args
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// Update is a change to a certificate's inventory fields; nil fields are
// left alone.
type Update struct {
	Owner            *string `json:"owner,omitempty"`
	Team             *string `json:"team,omitempty"`
	Notes            *string `json:"notes,omitempty"`
	NotifyDays       *[]int  `json:"notify_days,omitempty"`
	AutoRotate       *bool   `json:"auto_rotate,omitempty"`
	RotateBeforeDays *int    `json:"rotate_before_days,omitempty"`
}

// UpdateCert changes owner, team, notes, notification days or rotation.
func (m *Manager) UpdateCert(ctx context.Context, id int64, u Update) (Certificate, error) {
	c, err := m.Get(ctx, id)
	if err != nil {
		return c, err
	}
	if u.Owner != nil {
		c.Owner = *u.Owner
	}
	if u.Team != nil {
		c.Team = *u.Team
	}
	if u.Notes != nil {
		c.Notes = *u.Notes
	}
	if u.NotifyDays != nil {
		if err := checkNotifyDays(*u.NotifyDays); err != nil {
			return c, err
		}
		c.NotifyDays = *u.NotifyDays
	}
	if u.AutoRotate != nil {
		c.AutoRotate = *u.AutoRotate
	}
	if u.RotateBeforeDays != nil {
		if *u.RotateBeforeDays < 0 || *u.RotateBeforeDays > 3650 {
			return c, badInput("rotate_before_days %d: want 0 to 3650", *u.RotateBeforeDays)
		}
		c.RotateBeforeDays = *u.RotateBeforeDays
	}
	_, err = m.store.ExecContext(ctx, `UPDATE certs_certificates SET owner = ?, team = ?, notes = ?, notify_days = ?,
		auto_rotate = ?, rotate_before_days = ? WHERE id = ?`,
		c.Owner, c.Team, c.Notes, joinInts(c.NotifyDays), c.AutoRotate, c.RotateBeforeDays, id)
	if err != nil {
		return c, fmt.Errorf("update certificate %d: %w", id, err)
	}
	return m.Get(ctx, id)
}

func checkNotifyDays(days []int) error {
	if len(days) > 10 {
		return badInput("notify_days: at most 10 thresholds")
	}
	for _, d := range days {
		if d < 0 || d > 3650 {
			return badInput("notify_days: %d is not between 0 and 3650", d)
		}
	}
	return nil
}

// Lineage returns the chain of certificates that replaced one another
// around id, oldest first.
func (m *Manager) Lineage(ctx context.Context, id int64) ([]Certificate, error) {
	c, err := m.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	var before []Certificate
	for p := c.Replaces; p != nil && len(before) < 100; {
		pc, err := m.Get(ctx, *p)
		if err != nil {
			break
		}
		before = append([]Certificate{pc}, before...)
		p = pc.Replaces
	}
	out := append(before, c)
	for n := c.ReplacedBy; n != nil && len(out) < 200; {
		nc, err := m.Get(ctx, *n)
		if err != nil {
			break
		}
		out = append(out, nc)
		n = nc.ReplacedBy
	}
	return out, nil
}
