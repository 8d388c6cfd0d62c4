package certs

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/bus"
)

// CloudEvents types the certificate manager publishes; rules in the event
// platform route them to e-mail, webhooks or runbooks.
const (
	// ExpiringEventType announces a certificate crossing an expiry
	// notification threshold (data: ExpiringEvent).
	ExpiringEventType = "gaffer.certs.expiring"
	// RotatedEventType and RotationFailedEventType report rotations (data:
	// RotateResult without PEM).
	RotatedEventType        = "gaffer.certs.rotated"
	RotationFailedEventType = "gaffer.certs.rotation_failed"
	// RevokedEventType reports a revocation (data: the certificate).
	RevokedEventType = "gaffer.certs.revoked"
)

// publish sends an event about a certificate, best effort: a bus failure
// is logged, not returned, since the action itself succeeded.
func (m *Manager) publish(ctx context.Context, typ string, c Certificate, data any) {
	if m.bus == nil {
		return
	}
	b, err := json.Marshal(data)
	if err == nil {
		_, err = m.bus.Publish(ctx, &bus.Event{Type: typ, Source: "/certs", Subject: c.Serial, Data: b})
	}
	if err != nil {
		m.log.Error("certs: publish event", "type", typ, "serial", c.Serial, "error", err)
	}
}

// ExpiringEvent is the data of an expiry notification.
type ExpiringEvent struct {
	ID            int64     `json:"id"`
	Serial        string    `json:"serial"`
	CommonName    string    `json:"common_name"`
	Names         []string  `json:"names"`
	NotAfter      time.Time `json:"not_after"`
	DaysLeft      int       `json:"days_left"`
	ThresholdDays int       `json:"threshold_days"`
	Owner         string    `json:"owner,omitempty"`
	Team          string    `json:"team,omitempty"`
	Authority     string    `json:"authority,omitempty"`
	Source        string    `json:"source"`
	Endpoints     []string  `json:"endpoints,omitempty"`
	AutoRotate    bool      `json:"auto_rotate"`
}

// Notification is one sent expiry notification.
type Notification struct {
	CertID        int64     `json:"cert_id"`
	Serial        string    `json:"serial"`
	CommonName    string    `json:"common_name"`
	Owner         string    `json:"owner"`
	ThresholdDays int       `json:"threshold_days"`
	DaysLeft      int       `json:"days_left"`
	SentAt        time.Time `json:"sent_at"`
	EventID       string    `json:"event_id"`
}

// Notify publishes an expiry notification for every live certificate that
// crossed one of its thresholds since the last run: one event per crossing
// (the lowest threshold crossed), never twice for the same threshold.
func (m *Manager) Notify(ctx context.Context) (int, error) {
	now := m.now()
	rows, err := m.store.QueryContext(ctx, `SELECT id, not_after, notify_days FROM certs_certificates
		WHERE revoked_at IS NULL AND replaced_by IS NULL AND not_after > ?`, now.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("notify: select certificates: %w", err)
	}
	type due struct {
		id        int64
		crossed   []int
		threshold int
	}
	var todo []due
	for rows.Next() {
		var id, na int64
		var notify string
		if err := rows.Scan(&id, &na, &notify); err != nil {
			rows.Close()
			return 0, err
		}
		days := splitInts(notify)
		if len(days) == 0 {
			days = m.defaultNotifyDays()
		}
		left := time.UnixMilli(na).Sub(now)
		var crossed []int
		for _, d := range days {
			if left <= time.Duration(d)*24*time.Hour {
				crossed = append(crossed, d)
			}
		}
		if len(crossed) > 0 {
			todo = append(todo, due{id: id, crossed: crossed, threshold: slices.Min(crossed)})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	sent := 0
	for _, d := range todo {
		var done int
		if err := m.store.QueryRowContext(ctx, `SELECT COUNT(*) FROM certs_notifications WHERE cert_id = ? AND threshold_days = ?`,
			d.id, d.threshold).Scan(&done); err != nil {
			return sent, err
		}
		if done > 0 {
			continue
		}
		c, err := m.Get(ctx, d.id)
		if err != nil {
			return sent, err
		}
		eventID := "certs-expiring-" + strconv.FormatInt(c.ID, 10) + "-" + strconv.Itoa(d.threshold)
		if err := m.publishExpiring(ctx, c, d.threshold, eventID); err != nil {
			return sent, err
		}
		for _, t := range d.crossed {
			if _, err := m.store.ExecContext(ctx, `INSERT INTO certs_notifications (cert_id, threshold_days, sent_at, days_left, event_id)
				VALUES (?, ?, ?, ?, ?) ON CONFLICT (cert_id, threshold_days) DO NOTHING`,
				c.ID, t, now.UnixMilli(), c.DaysLeft, eventID); err != nil {
				return sent, fmt.Errorf("notify: record %s: %w", c.Serial, err)
			}
		}
		sent++
	}
	return sent, nil
}

func (m *Manager) defaultNotifyDays() []int {
	if len(m.notifyDays) > 0 {
		return m.notifyDays
	}
	return DefaultNotifyDays
}

func (m *Manager) publishExpiring(ctx context.Context, c Certificate, threshold int, eventID string) error {
	if m.bus == nil {
		return nil
	}
	ev := ExpiringEvent{ID: c.ID, Serial: c.Serial, CommonName: c.CommonName, Names: c.Names, NotAfter: c.NotAfter,
		DaysLeft: c.DaysLeft, ThresholdDays: threshold, Owner: c.Owner, Team: c.Team, Authority: c.Authority,
		Source: c.Source, AutoRotate: c.AutoRotate}
	for _, e := range c.Endpoints {
		ev.Endpoints = append(ev.Endpoints, e.Endpoint)
	}
	data, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	if _, err := m.bus.Publish(ctx, &bus.Event{ID: eventID, Type: ExpiringEventType, Source: "/certs", Subject: c.Serial, Data: data}); err != nil {
		return fmt.Errorf("notify: publish %s: %w", c.Serial, err)
	}
	return nil
}

// Notifications lists sent notifications, newest first.
func (m *Manager) Notifications(ctx context.Context, limit int) ([]Notification, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	rows, err := m.store.QueryContext(ctx, `SELECT n.cert_id, c.serial, c.common_name, c.owner, n.threshold_days, n.days_left,
		n.sent_at, n.event_id FROM certs_notifications n JOIN certs_certificates c ON c.id = n.cert_id
		ORDER BY n.sent_at DESC, n.cert_id, n.threshold_days LIMIT `+strconv.Itoa(limit))
	if err != nil {
		return nil, fmt.Errorf("list notifications: %w", err)
	}
	defer rows.Close()
	out := []Notification{}
	for rows.Next() {
		var n Notification
		var at int64
		if err := rows.Scan(&n.CertID, &n.Serial, &n.CommonName, &n.Owner, &n.ThresholdDays, &n.DaysLeft, &at, &n.EventID); err != nil {
			return nil, err
		}
		n.SentAt = time.UnixMilli(at).UTC()
		out = append(out, n)
	}
	return out, rows.Err()
}
