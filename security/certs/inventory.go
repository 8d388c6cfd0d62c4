package certs

import (
	"context"
	"crypto/x509"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/store"
)

// Sources of inventory entries.
const (
	SourceIssued     = "issued"
	SourceImported   = "imported"
	SourceDiscovered = "discovered"
	SourceACME       = "acme"
)

// Certificate is one inventory entry.
type Certificate struct {
	ID           int64     `json:"id"`
	Serial       string    `json:"serial"`
	Authority    string    `json:"authority,omitempty"`
	Source       string    `json:"source"`
	CommonName   string    `json:"common_name"`
	Names        []string  `json:"names"`
	Issuer       string    `json:"issuer"`
	KeyAlgorithm string    `json:"key_algorithm"`
	Fingerprint  string    `json:"fingerprint_sha256"`
	NotBefore    time.Time `json:"not_before"`
	NotAfter     time.Time `json:"not_after"`
	// Status is active, expiring (within the first notification
	// threshold), expired, revoked or replaced.
	Status string `json:"status"`
	// DaysLeft is whole days until NotAfter (negative once expired).
	DaysLeft int `json:"days_left"`
	// Certificate is the PEM certificate; Chain its issuers (PEM).
	Certificate string `json:"certificate"`
	Chain       string `json:"chain,omitempty"`
	// HasKey says Gaffer holds the private key (sealed).
	HasKey           bool       `json:"has_key"`
	Owner            string     `json:"owner"`
	Team             string     `json:"team"`
	Notes            string     `json:"notes"`
	NotifyDays       []int      `json:"notify_days"`
	AutoRotate       bool       `json:"auto_rotate"`
	RotateBeforeDays int        `json:"rotate_before_days,omitempty"`
	Replaces         *int64     `json:"replaces,omitempty"`
	ReplacedBy       *int64     `json:"replaced_by,omitempty"`
	RevokedAt        *time.Time `json:"revoked_at,omitempty"`
	RevocationReason string     `json:"revocation_reason,omitempty"`
	Endpoints        []Endpoint `json:"endpoints,omitempty"`
	CreatedAt        time.Time  `json:"created_at"`
	CreatedBy        string     `json:"created_by"`
}

// Endpoint is a host:port where a certificate was found or deployed.
type Endpoint struct {
	Endpoint  string    `json:"endpoint"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
}

// DefaultNotifyDays are the expiry notification thresholds.
var DefaultNotifyDays = []int{30, 15, 2}

// SerialHex writes a serial number as Gaffer does: lower-case hex.
func SerialHex(c *x509.Certificate) string { return strings.ToLower(c.SerialNumber.Text(16)) }

// NormalizeSerial accepts hex with or without colons, any case.
func NormalizeSerial(s string) string {
	s = strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), ":", ""))
	s = strings.TrimPrefix(s, "0x")
	return strings.TrimLeft(s, "0")
}

// record is what insertCert stores.
type record struct {
	cert       *x509.Certificate
	chain      []*x509.Certificate
	authority  string
	source     string
	sealedKey  []byte
	kekID      string
	owner      string
	team       string
	notes      string
	notifyDays []int
	autoRotate bool
	rotateDays int
	replaces   int64
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}

func splitInts(s string) []int {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(f)); err == nil {
			out = append(out, n)
		}
	}
	return out
}

func certNames(c *x509.Certificate) []string {
	names := append([]string(nil), c.DNSNames...)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	names = append(names, c.EmailAddresses...)
	for _, u := range c.URIs {
		names = append(names, u.String())
	}
	if len(names) == 0 && c.Subject.CommonName != "" {
		names = append(names, strings.ToLower(c.Subject.CommonName))
	}
	return names
}

// insertCert stores a certificate in tx and returns its ID; a replaced
// certificate gets its replaced_by set.
func (m *Manager) insertCert(ctx context.Context, tx *store.Tx, r *record, by string) (int64, error) {
	kt, _ := KeyType(r.cert.PublicKey)
	var chain strings.Builder
	for _, c := range r.chain {
		chain.Write(pemCert(c.Raw))
	}
	names := certNames(r.cert)
	var replaces any
	if r.replaces != 0 {
		replaces = r.replaces
	}
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO certs_certificates
		(serial, authority, source, common_name, names, issuer, key_algorithm, fingerprint, not_before, not_after,
		 certificate, chain, sealed_key, kek_id, owner, team, notes, notify_days, auto_rotate, rotate_before_days,
		 replaces, created_at, created_by)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (serial, issuer, authority) DO NOTHING RETURNING id`,
		SerialHex(r.cert), r.authority, r.source, r.cert.Subject.CommonName, strings.Join(names, ","),
		r.cert.Issuer.String(), kt, Fingerprint(r.cert.Raw), r.cert.NotBefore.UnixMilli(), r.cert.NotAfter.UnixMilli(),
		string(pemCert(r.cert.Raw)), chain.String(), r.sealedKey, r.kekID, r.owner, r.team, r.notes,
		joinInts(r.notifyDays), r.autoRotate, r.rotateDays, replaces, m.now().UnixMilli(), by).Scan(&id)
	// A duplicate inserts nothing rather than failing: on PostgreSQL a
	// failed statement aborts the transaction, and Import goes on past
	// a duplicate to the bundle's other certificates.
	if errors.Is(err, sql.ErrNoRows) || store.IsUniqueViolation(err) {
		return 0, fmt.Errorf("certificate with serial %s already in the inventory: %w", SerialHex(r.cert), ErrConflict)
	}
	if err != nil {
		return 0, fmt.Errorf("store certificate %s: %w", SerialHex(r.cert), err)
	}
	for _, n := range dedupe(names) {
		if _, err := tx.ExecContext(ctx, `INSERT INTO certs_names (cert_id, name) VALUES (?, ?)`, id, strings.ToLower(n)); err != nil {
			return 0, fmt.Errorf("store names of %s: %w", SerialHex(r.cert), err)
		}
	}
	if r.replaces != 0 {
		if _, err := tx.ExecContext(ctx, `UPDATE certs_certificates SET replaced_by = ? WHERE id = ?`, id, r.replaces); err != nil {
			return 0, fmt.Errorf("link %d as replaced by %d: %w", r.replaces, id, err)
		}
	}
	return id, nil
}

func dedupe(v []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range v {
		if k := strings.ToLower(s); !seen[k] {
			seen[k] = true
			out = append(out, s)
		}
	}
	return out
}

const certColumns = `id, serial, authority, source, common_name, names, issuer, key_algorithm, fingerprint,
	not_before, not_after, certificate, chain, sealed_key IS NOT NULL, owner, team, notes, notify_days, auto_rotate,
	rotate_before_days, replaces, replaced_by, revoked_at, revocation_reason, created_at, created_by`

func (m *Manager) scanCert(sc interface{ Scan(...any) error }) (Certificate, error) {
	var c Certificate
	var names, notify string
	var nb, na, created int64
	var replaces, replacedBy, revoked sql.NullInt64
	var reason int
	if err := sc.Scan(&c.ID, &c.Serial, &c.Authority, &c.Source, &c.CommonName, &names, &c.Issuer, &c.KeyAlgorithm,
		&c.Fingerprint, &nb, &na, &c.Certificate, &c.Chain, &c.HasKey, &c.Owner, &c.Team, &c.Notes, &notify,
		&c.AutoRotate, &c.RotateBeforeDays, &replaces, &replacedBy, &revoked, &reason, &created, &c.CreatedBy); err != nil {
		return c, err
	}
	c.Names = []string{}
	if names != "" {
		c.Names = strings.Split(names, ",")
	}
	c.NotifyDays = splitInts(notify)
	if len(c.NotifyDays) == 0 {
		c.NotifyDays = DefaultNotifyDays
	}
	c.NotBefore, c.NotAfter, c.CreatedAt = time.UnixMilli(nb).UTC(), time.UnixMilli(na).UTC(), time.UnixMilli(created).UTC()
	if replaces.Valid {
		c.Replaces = &replaces.Int64
	}
	if replacedBy.Valid {
		c.ReplacedBy = &replacedBy.Int64
	}
	if revoked.Valid {
		t := time.UnixMilli(revoked.Int64).UTC()
		c.RevokedAt = &t
		c.RevocationReason = ReasonName(reason)
	}
	now := m.now()
	c.DaysLeft = int(c.NotAfter.Sub(now).Hours() / 24)
	switch {
	case c.RevokedAt != nil:
		c.Status = "revoked"
	case !c.NotAfter.After(now):
		c.Status = "expired"
	case c.ReplacedBy != nil:
		c.Status = "replaced"
	case c.NotAfter.Sub(now) <= time.Duration(maxInt(c.NotifyDays))*24*time.Hour:
		c.Status = "expiring"
	default:
		c.Status = "active"
	}
	return c, nil
}

func maxInt(v []int) int {
	m := 0
	for _, n := range v {
		m = max(m, n)
	}
	return m
}

// Get returns one certificate by ID, with its endpoints.
func (m *Manager) Get(ctx context.Context, id int64) (Certificate, error) {
	c, err := m.scanCert(m.store.QueryRowContext(ctx, `SELECT `+certColumns+` FROM certs_certificates WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("certificate %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("load certificate %d: %w", id, err)
	}
	c.Endpoints, err = m.endpoints(ctx, id)
	return c, err
}

// GetBySerial returns one certificate by serial (hex, colons allowed);
// when several issuers used the serial, the first recorded.
func (m *Manager) GetBySerial(ctx context.Context, serial string) (Certificate, error) {
	var id int64
	err := m.store.QueryRowContext(ctx, `SELECT MIN(id) FROM certs_certificates WHERE serial = ? HAVING COUNT(*) > 0`, NormalizeSerial(serial)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return Certificate{}, fmt.Errorf("certificate with serial %s: %w", serial, ErrNotFound)
	}
	if err != nil {
		return Certificate{}, fmt.Errorf("find certificate %s: %w", serial, err)
	}
	return m.Get(ctx, id)
}

// getIssued returns the certificate an internal authority issued with a
// serial.
func (m *Manager) getIssued(ctx context.Context, authority, serial string) (Certificate, error) {
	var id int64
	err := m.store.QueryRowContext(ctx, `SELECT id FROM certs_certificates WHERE authority = ? AND serial = ?`,
		authority, NormalizeSerial(serial)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return Certificate{}, fmt.Errorf("certificate %s of %s: %w", serial, authority, ErrNotFound)
	}
	if err != nil {
		return Certificate{}, fmt.Errorf("find certificate %s: %w", serial, err)
	}
	return m.Get(ctx, id)
}

// Lookup finds a certificate by ID (digits), serial, or a unique prefix
// of a serial (ErrAmbiguous when several serials start with it); a
// reference that is both an ID and a serial is taken as an ID first.
func (m *Manager) Lookup(ctx context.Context, ref string) (Certificate, error) {
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil && len(ref) < 12 {
		c, err := m.Get(ctx, id)
		if !errors.Is(err, ErrNotFound) {
			return c, err
		}
		// A short serial of digits (imported certificates have them).
	}
	c, err := m.GetBySerial(ctx, ref)
	if !errors.Is(err, ErrNotFound) {
		return c, err
	}
	return m.getBySerialPrefix(ctx, ref)
}

// ErrAmbiguous is returned (wrapped, naming the candidates) by Lookup for
// a serial prefix that several certificates' serials start with.
var ErrAmbiguous = errors.New("ambiguous")

// getBySerialPrefix returns the certificate whose serial alone starts with
// prefix (hex, as NormalizeSerial reads it), as the CLI grammar asks: a
// unique prefix of a serial names its certificate.
func (m *Manager) getBySerialPrefix(ctx context.Context, prefix string) (Certificate, error) {
	p := NormalizeSerial(prefix)
	if p == "" || strings.Trim(p, "0123456789abcdef") != "" {
		return Certificate{}, fmt.Errorf("certificate %q: %w (give an ID, a serial in hex, or a unique prefix of one)", prefix, ErrNotFound)
	}
	rows, err := m.store.QueryContext(ctx, `SELECT MIN(id), serial, MIN(common_name) FROM certs_certificates
		WHERE serial LIKE ? GROUP BY serial ORDER BY serial LIMIT 11`, p+"%")
	if err != nil {
		return Certificate{}, fmt.Errorf("find certificate %s: %w", prefix, err)
	}
	defer rows.Close()
	var ids []int64
	var names []string
	for rows.Next() {
		var id int64
		var serial, cn string
		if err := rows.Scan(&id, &serial, &cn); err != nil {
			return Certificate{}, fmt.Errorf("find certificate %s: %w", prefix, err)
		}
		ids = append(ids, id)
		names = append(names, serial+" ("+cn+")")
	}
	if err := rows.Err(); err != nil {
		return Certificate{}, fmt.Errorf("find certificate %s: %w", prefix, err)
	}
	switch len(ids) {
	case 0:
		return Certificate{}, fmt.Errorf("certificate with serial or serial prefix %s: %w", prefix, ErrNotFound)
	case 1:
		return m.Get(ctx, ids[0])
	}
	if len(names) > 10 {
		names = append(names[:10], "and more")
	}
	return Certificate{}, fmt.Errorf("serial prefix %s is %w: it matches %s", prefix, ErrAmbiguous, strings.Join(names, ", "))
}

func (m *Manager) endpoints(ctx context.Context, id int64) ([]Endpoint, error) {
	rows, err := m.store.QueryContext(ctx, `SELECT endpoint, first_seen, last_seen FROM certs_endpoints
		WHERE cert_id = ? ORDER BY endpoint`, id)
	if err != nil {
		return nil, fmt.Errorf("endpoints of %d: %w", id, err)
	}
	defer rows.Close()
	var out []Endpoint
	for rows.Next() {
		var e Endpoint
		var f, l int64
		if err := rows.Scan(&e.Endpoint, &f, &l); err != nil {
			return nil, err
		}
		e.FirstSeen, e.LastSeen = time.UnixMilli(f).UTC(), time.UnixMilli(l).UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}
