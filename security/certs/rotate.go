package certs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/audit"
)

// RotateResult reports one rotation.
type RotateResult struct {
	Old      Certificate `json:"old"`
	New      Certificate `json:"new"`
	Deployed []string    `json:"deployed,omitempty"`
	Failed   []string    `json:"failed,omitempty"`
}

// Reissue issues a replacement of certificate id with the same names,
// authority, owner and settings and a fresh key, linked as its successor.
// When id already has a successor, Reissue returns that one (so a retried
// rotation does not issue twice).
func (m *Manager) Reissue(ctx context.Context, id int64) (Certificate, error) {
	old, err := m.Get(ctx, id)
	if err != nil {
		return old, err
	}
	if old.ReplacedBy != nil {
		return m.Get(ctx, *old.ReplacedBy)
	}
	if old.RevokedAt != nil && old.RevocationReason != "superseded" {
		return old, badInput("certificate %s is revoked (%s): issue a new one instead", old.Serial, old.RevocationReason)
	}
	var req IssueRequest
	req.Authority, req.Owner, req.Team, req.Notes = old.Authority, old.Owner, old.Team, old.Notes
	req.NotifyDays, req.AutoRotate, req.RotateBeforeDays, req.Replaces = old.NotifyDays, old.AutoRotate, old.RotateBeforeDays, old.ID
	req.CommonName, req.SANs = old.CommonName, old.Names
	req.KeyType = old.KeyAlgorithm
	req.Validity = Duration(old.NotAfter.Sub(old.NotBefore).Round(time.Second))
	switch old.Source {
	case SourceIssued:
		a, err := m.Authority(ctx, old.Authority)
		if err != nil {
			return old, err
		}
		if max := a.Policy.maxValidity(); time.Duration(req.Validity) > max {
			req.Validity = Duration(max)
		}
		return m.issue(ctx, req, SourceIssued)
	case SourceACME:
		return m.obtainACME(ctx, req)
	}
	return old, badInput("certificate %s was %s: Gaffer can only reissue certificates from its own or ACME authorities", old.Serial, old.Source)
}

// Rotate reissues certificate id and deploys the replacement to the
// destinations of the old one (which it inherits). A failed deployment
// rolls that destination back and is reported; the replacement stays in
// the inventory, and a later rotation deploys it again.
func (m *Manager) Rotate(ctx context.Context, id int64) (RotateResult, error) {
	var res RotateResult
	old, err := m.Get(ctx, id)
	if err != nil {
		return res, err
	}
	res.Old = old
	nc, err := m.Reissue(ctx, id)
	if err != nil {
		m.record(ctx, "certs.rotation", certTarget(old), audit.OutcomeFailure, err.Error())
		m.publish(ctx, RotationFailedEventType, old, map[string]any{"old": brief(old), "error": err.Error()})
		return res, err
	}
	res.New = nc
	// Destinations move to the replacement first, so that a retried
	// rotation (Reissue returns the same replacement) deploys again.
	if err := m.moveDestinations(ctx, old.ID, nc.ID); err != nil {
		return res, err
	}
	dests, err := m.Destinations(ctx, nc.ID)
	if err != nil {
		return res, err
	}
	var errs []error
	for _, d := range dests {
		if err := m.Deploy(ctx, d, nc, &old); err != nil {
			res.Failed = append(res.Failed, err.Error())
			errs = append(errs, err)
			continue
		}
		res.Deployed = append(res.Deployed, d.describe())
	}
	detail := fmt.Sprintf("replaced by %s; deployed to %d of %d destinations", nc.Serial, len(res.Deployed), len(dests))
	summary := map[string]any{"old": brief(old), "new": brief(nc), "deployed": res.Deployed, "failed": res.Failed}
	if len(errs) > 0 {
		detail += "; " + strings.Join(res.Failed, "; ")
		m.record(ctx, "certs.rotation", certTarget(old), audit.OutcomeFailure, detail)
		m.publish(ctx, RotationFailedEventType, nc, summary)
		return res, errors.Join(errs...)
	}
	m.record(ctx, "certs.rotation", certTarget(old), audit.OutcomeSuccess, detail)
	m.publish(ctx, RotatedEventType, nc, summary)
	return res, nil
}

func (d Destination) describe() string {
	if d.Kind == DestWebhook {
		return "webhook " + d.URL
	}
	return "file " + d.CertPath
}

func (m *Manager) moveDestinations(ctx context.Context, from, to int64) error {
	if _, err := m.store.ExecContext(ctx, `UPDATE certs_destinations SET cert_id = ? WHERE cert_id = ?`, to, from); err != nil {
		return fmt.Errorf("move destinations of %d to %d: %w", from, to, err)
	}
	return nil
}

// DueForRotation lists certificates with automatic rotation whose
// rotation time has come: RotateBeforeDays before expiry, or with none
// set, when a third of the lifetime is left.
func (m *Manager) DueForRotation(ctx context.Context) ([]int64, error) {
	now := m.now()
	rows, err := m.store.QueryContext(ctx, `SELECT id, not_before, not_after, rotate_before_days FROM certs_certificates
		WHERE auto_rotate AND revoked_at IS NULL AND replaced_by IS NULL AND source IN ('issued', 'acme')`)
	if err != nil {
		return nil, fmt.Errorf("select certificates due for rotation: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id, nb, na int64
		var days int
		if err := rows.Scan(&id, &nb, &na, &days); err != nil {
			return nil, err
		}
		before := time.Duration(days) * 24 * time.Hour
		if days == 0 {
			before = time.UnixMilli(na).Sub(time.UnixMilli(nb)) / 3
		}
		if !now.Before(time.UnixMilli(na).Add(-before)) {
			out = append(out, id)
		}
	}
	return out, rows.Err()
}

// brief is a certificate without its PEM, for events.
func brief(c Certificate) Certificate {
	c.Certificate, c.Chain = "", ""
	return c
}
