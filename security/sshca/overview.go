package sshca

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform"
	"github.com/gaffer-sre/gaffer/internal/platform/audit"
)

// refusedAction is the audit action of a refused signing request.
const refusedAction = "sshca.certificate.refused"

// refusalsCounted bounds the refusals the overview counts ("1000+").
const refusalsCounted = 1000

// Overview reports the SSH CA's last 24 hours: certificates signed,
// requests refused and revocations, with the latest refusals and
// revocations, newest first.
func (s *Service) Overview(ctx context.Context) ([]platform.Panel, error) {
	now := s.ca.now()
	since := now.Add(-24 * time.Hour)
	signed, err := s.ca.countSignedSince(ctx, since)
	if err != nil {
		return nil, err
	}
	revs, nRevs, err := s.ca.recentRevocations(ctx, since, platform.OverviewRows)
	if err != nil {
		return nil, err
	}
	var refusals []audit.Entry
	if s.deps != nil && s.deps.Audit != nil {
		refusals, _, err = s.deps.Audit.List(ctx, audit.Filter{Action: refusedAction, Since: since, Limit: refusalsCounted})
		if err != nil {
			return nil, fmt.Errorf("sshca: read refusals: %w", err)
		}
	}
	p := platform.Panel{Section: platform.SectionSecurity, Title: "SSH CA activity", Link: "/sshca/certs",
		Empty: "no refusal or revocation in 24h", Rows: []platform.Row{}}
	for _, e := range refusals {
		p.Rows = append(p.Rows, refusalRow(e))
	}
	for _, r := range revs {
		p.Rows = append(p.Rows, revocationRow(r))
	}
	slices.SortStableFunc(p.Rows, func(a, b platform.Row) int { return b.Time.Compare(a.Time) })
	if len(p.Rows) > platform.OverviewRows {
		p.More = len(p.Rows) - platform.OverviewRows
		p.Rows = p.Rows[:platform.OverviewRows]
	}
	refused := fmt.Sprint(len(refusals))
	if len(refusals) == refusalsCounted {
		refused += "+"
	}
	refusedTone := platform.Tone("")
	if len(refusals) > 0 {
		refusedTone = platform.ToneWarn
	}
	p.Figures = []platform.Figure{
		{Label: "certificates signed in 24h", Value: fmt.Sprint(signed)},
		{Label: "requests refused in 24h", Value: refused, Tone: refusedTone},
		{Label: "revocations in 24h", Value: fmt.Sprint(nRevs)},
	}
	return []platform.Panel{p}, nil
}

// countSignedSince counts the certificates issued from since on.
func (a *Authority) countSignedSince(ctx context.Context, since time.Time) (int, error) {
	var n int
	if err := a.store.QueryRowContext(ctx, `SELECT COUNT(*) FROM sshca_certs WHERE issued_at >= ?`,
		since.UnixMilli()).Scan(&n); err != nil {
		return 0, fmt.Errorf("sshca: count certificates: %w", err)
	}
	return n, nil
}

// recentRevocations returns the newest limit revocations made from since
// on, and how many there are.
func (a *Authority) recentRevocations(ctx context.Context, since time.Time, limit int) ([]Revocation, int, error) {
	var n int
	if err := a.store.QueryRowContext(ctx, `SELECT COUNT(*) FROM sshca_revocations WHERE revoked_at >= ?`,
		since.UnixMilli()).Scan(&n); err != nil {
		return nil, 0, fmt.Errorf("sshca: count revocations: %w", err)
	}
	rows, err := a.store.QueryContext(ctx, `SELECT id, kind, ca_name, serial, key_id, fingerprint, reason, revoked_at, revoked_by
		FROM sshca_revocations WHERE revoked_at >= ? ORDER BY revoked_at DESC, id DESC LIMIT ?`, since.UnixMilli(), limit)
	if err != nil {
		return nil, 0, fmt.Errorf("sshca: list revocations: %w", err)
	}
	defer rows.Close()
	var out []Revocation
	for rows.Next() {
		var r Revocation
		var serial, at int64
		if err := rows.Scan(&r.ID, &r.Kind, &r.CA, &serial, &r.KeyID, &r.Fingerprint, &r.Reason, &at, &r.RevokedBy); err != nil {
			return nil, 0, fmt.Errorf("sshca: list revocations: %w", err)
		}
		r.Serial, r.RevokedAt = uint64(serial), time.UnixMilli(at).UTC()
		out = append(out, r)
	}
	return out, n, rows.Err()
}

// refusalRow shows a refused signing request: for whom, and why.
func refusalRow(e audit.Entry) platform.Row {
	who := strings.TrimPrefix(e.Target, "sshca-identity:")
	text := "refused"
	if who != "" {
		text += " for " + who
	}
	if e.Detail != "" {
		text += ": " + e.Detail
	}
	// A policy's refusal is the CA working; any other failure is not.
	tone := platform.ToneBad
	if e.Outcome == audit.OutcomeDenied {
		tone = platform.ToneWarn
	}
	return platform.Row{Time: e.Time, Text: text, Who: e.Actor, Status: "refused", Tone: tone,
		Link: "/audit?action=" + refusedAction}
}

// revocationRow shows what a revocation covers and why.
func revocationRow(r Revocation) platform.Row {
	text := "revoked " + strings.ReplaceAll(r.Kind, "_", " ") + " " + describeRevocation(r)
	if r.CA != "" {
		text += " of " + r.CA
	}
	if r.Reason != "" {
		text += ": " + r.Reason
	}
	return platform.Row{Time: r.RevokedAt, Text: text, Who: r.RevokedBy, Status: "revoked", Link: "/sshca/revocations"}
}
