package certs

import (
	"context"
	"fmt"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform"
)

// overviewHorizon is how far ahead the overview looks for expiries.
const overviewHorizon = 30 * 24 * time.Hour

// overviewSoon is the expiry within which a certificate reads as urgent.
const overviewSoon = 7 * 24 * time.Hour

// Overview reports the certificates still in service (neither revoked nor
// replaced) that have expired, most recent first, then those expiring in
// the next 30 days, soonest first, with how many of each there are.
func (s *Service) Overview(ctx context.Context) ([]platform.Panel, error) {
	return s.mgr.overview(ctx)
}

func (m *Manager) overview(ctx context.Context) ([]platform.Panel, error) {
	now := m.now()
	const live = `revoked_at IS NULL AND replaced_by IS NULL`
	expired, nExpired, err := m.certsWhere(ctx, live+` AND not_after <= ?`, "not_after DESC, id", now.UnixMilli())
	if err != nil {
		return nil, err
	}
	expiring, nExpiring, err := m.certsWhere(ctx, live+` AND not_after > ? AND not_after <= ?`, "not_after, id",
		now.UnixMilli(), now.Add(overviewHorizon).UnixMilli())
	if err != nil {
		return nil, err
	}
	_, nSoon, err := m.certsWhere(ctx, live+` AND not_after > ? AND not_after <= ?`, "id",
		now.UnixMilli(), now.Add(overviewSoon).UnixMilli())
	if err != nil {
		return nil, err
	}
	p := platform.Panel{Section: platform.SectionSecurity, Title: "Certificates expiring", Link: "/certs?expiring=30d",
		Empty: "none expires in the next 30 days", Rows: []platform.Row{}}
	for _, c := range append(expired, expiring...) {
		if len(p.Rows) == platform.OverviewRows {
			break
		}
		p.Rows = append(p.Rows, expiryRow(c, now))
	}
	p.More = nExpired + nExpiring - len(p.Rows)
	p.Figures = []platform.Figure{
		{Label: "expired, still in service", Value: fmt.Sprint(nExpired), Tone: countTone(nExpired, platform.ToneBad)},
		{Label: "expire within 7 days", Value: fmt.Sprint(nSoon), Tone: countTone(nSoon, platform.ToneBad)},
		{Label: "expire within 30 days", Value: fmt.Sprint(nExpiring), Tone: countTone(nExpiring, platform.ToneWarn)},
	}
	return []platform.Panel{p}, nil
}

// certsWhere returns the first OverviewRows certificates matching where,
// in order, and how many match in all.
func (m *Manager) certsWhere(ctx context.Context, where, order string, args ...any) ([]Certificate, int, error) {
	var n int
	if err := m.store.QueryRowContext(ctx, `SELECT COUNT(*) FROM certs_certificates WHERE `+where, args...).Scan(&n); err != nil {
		return nil, 0, fmt.Errorf("count certificates: %w", err)
	}
	rows, err := m.store.QueryContext(ctx, `SELECT `+certColumns+` FROM certs_certificates WHERE `+where+
		` ORDER BY `+order+fmt.Sprintf(` LIMIT %d`, platform.OverviewRows), args...)
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
	return out, n, rows.Err()
}

// expiryRow shows when a certificate expires (or expired) and how soon.
func expiryRow(c Certificate, now time.Time) platform.Row {
	name := c.CommonName
	if name == "" && len(c.Names) > 0 {
		name = c.Names[0]
	}
	if c.Authority != "" {
		name += " (" + c.Authority + ")"
	}
	row := platform.Row{Time: c.NotAfter, Text: name, Who: c.Owner, Link: fmt.Sprintf("/certs/c/%d", c.ID)}
	left := c.NotAfter.Sub(now)
	switch {
	case left <= 0:
		row.Status, row.Tone = "expired", platform.ToneBad
	case left < 24*time.Hour:
		row.Status, row.Tone = fmt.Sprintf("%dh left", int(left.Hours())), platform.ToneBad
	default:
		row.Status = fmt.Sprintf("%dd left", int(left.Hours()/24))
		row.Tone = platform.ToneWarn
		if left <= overviewSoon {
			row.Tone = platform.ToneBad
		}
	}
	return row
}

// countTone is tone when n is positive, else ok.
func countTone(n int, tone platform.Tone) platform.Tone {
	if n > 0 {
		return tone
	}
	return platform.ToneOK
}
