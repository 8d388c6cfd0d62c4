package sshca

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/gaffer-sre/gaffer/internal/platform/store"
)

// Cert is the record of an issued certificate.
type Cert struct {
	// Serial is written as a decimal string in JSON (it may exceed what a
	// JavaScript number holds exactly).
	Serial      uint64     `json:"serial,string"`
	CA          string     `json:"ca"`
	CAKeyID     string     `json:"ca_key_id"`
	CertType    string     `json:"cert_type"`
	Identity    string     `json:"identity"`
	Policy      string     `json:"policy"`
	KeyID       string     `json:"key_id"`
	Principals  []string   `json:"principals"`
	Fingerprint string     `json:"fingerprint"`
	ValidAfter  time.Time  `json:"valid_after"`
	ValidBefore time.Time  `json:"valid_before"`
	IssuedAt    time.Time  `json:"issued_at"`
	ClientIP    string     `json:"client_ip"`
	RequestID   string     `json:"request_id"`
	Certificate string     `json:"certificate"`
	RevokedAt   *time.Time `json:"revoked_at,omitempty"`
	// Status is "valid", "expired" or "revoked", as of the answer.
	Status string `json:"status"`
}

// Sign decides a request against the caller's policy and, if allowed,
// issues and records the certificate. A refusal is a *Refusal.
func (a *Authority) Sign(ctx context.Context, caller Caller, req *Request) (*Cert, error) {
	if err := checkIdentity(caller.Identity); err != nil {
		return nil, err
	}
	snap, err := a.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	fp := ssh.FingerprintSHA256(req.Key)
	if snap.revokedFP[fp] {
		return nil, refuse("public_key: %s is revoked", fp)
	}
	certType := uint32(ssh.UserCert)
	if req.CertType == HostCert {
		certType = ssh.HostCert
	}
	policy := selectPolicy(snap.policies, certType, caller.Identity, caller.Groups)
	if policy == nil {
		return nil, refuse("no policy allows %s certificates for %s", req.CertType, caller.Identity)
	}
	now := a.now()
	tmpl, err := policy.decide(caller, req, now)
	if err != nil {
		return nil, err
	}
	ca, ok := snap.cas[tmpl.CA]
	key := snap.active[tmpl.CA]
	if !ok || key == nil || ca.CertType != req.CertType {
		return nil, &Refusal{Status: 409, Code: "conflict",
			Reason: fmt.Sprintf("ca: policy %q names CA %q, which does not exist, has no active key, or signs another type", policy.Name, tmpl.CA)}
	}
	signer, err := a.signer(ctx, key.ID)
	if err != nil {
		return nil, err
	}
	ip := ""
	if caller.ClientIP.IsValid() {
		ip = caller.ClientIP.Unmap().String()
	}
	keyID := KeyID(caller.RequestID, caller.Identity, ip, tmpl.CriticalOptions["force-command"], fp,
		ca.Name+"/"+key.ID, tmpl.ValidBefore)
	rec := &Cert{CA: ca.Name, CAKeyID: key.ID, CertType: req.CertType, Identity: caller.Identity, Policy: policy.Name,
		KeyID: keyID, Principals: tmpl.Principals, Fingerprint: fp, ValidAfter: tmpl.ValidAfter.UTC(),
		ValidBefore: tmpl.ValidBefore.UTC(), IssuedAt: now.UTC().Truncate(time.Millisecond), ClientIP: ip,
		RequestID: caller.RequestID, Status: "valid"}
	for attempt := 0; ; attempt++ {
		if rec.Serial, err = NewSerial(); err != nil {
			return nil, err
		}
		cert, err := Issue(signer, req.Key, tmpl, rec.Serial, keyID)
		if err != nil {
			return nil, err
		}
		rec.Certificate = strings.TrimSpace(string(ssh.MarshalAuthorizedKey(cert)))
		err = a.insertCert(ctx, rec)
		if err == nil {
			return rec, nil
		}
		if !store.IsUniqueViolation(err) || attempt == 3 {
			return nil, fmt.Errorf("sshca: record certificate: %w", err)
		}
	}
}

func (a *Authority) insertCert(ctx context.Context, c *Cert) error {
	_, err := a.store.ExecContext(ctx, `INSERT INTO sshca_certs (serial, ca_name, ca_key_id, cert_type, identity, policy,
		key_id, principals, fingerprint, valid_after, valid_before, issued_at, client_ip, request_id, certificate)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		int64(c.Serial), c.CA, c.CAKeyID, c.CertType, c.Identity, c.Policy, c.KeyID, strings.Join(c.Principals, " "),
		c.Fingerprint, c.ValidAfter.UnixMilli(), c.ValidBefore.UnixMilli(), c.IssuedAt.UnixMilli(), c.ClientIP,
		c.RequestID, c.Certificate)
	return err
}

// CertFilter selects issued certificates; zero fields match everything.
type CertFilter struct {
	// Query matches a substring of the identity, key ID, principals,
	// fingerprint or serial.
	Query    string
	Identity string
	CA       string
	// Status is "valid", "expired" or "revoked".
	Status string
	// Before returns certificates recorded before this row (a cursor).
	Before int64
	Limit  int
}

const certColumns = `id, serial, ca_name, ca_key_id, cert_type, identity, policy, key_id, principals, fingerprint,
	valid_after, valid_before, issued_at, client_ip, request_id, certificate, revoked_at`

// ListCerts returns certificates newest first, and the cursor of the next
// page (0 on the last).
func (a *Authority) ListCerts(ctx context.Context, f CertFilter) ([]Cert, int64, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	var where []string
	var args []any
	add := func(cond string, v ...any) { where = append(where, cond); args = append(args, v...) }
	if f.Query != "" {
		like := "%" + escapeLike(f.Query) + "%"
		cond := `(identity LIKE ? ESCAPE '\' OR key_id LIKE ? ESCAPE '\' OR principals LIKE ? ESCAPE '\' OR fingerprint LIKE ? ESCAPE '\'`
		vals := []any{like, like, like, like}
		if n, err := strconv.ParseUint(f.Query, 10, 63); err == nil {
			cond += " OR serial = ?"
			vals = append(vals, int64(n))
		}
		add(cond+")", vals...)
	}
	if f.Identity != "" {
		add("identity = ?", f.Identity)
	}
	if f.CA != "" {
		add("ca_name = ?", f.CA)
	}
	now := a.now().UnixMilli()
	switch f.Status {
	case "":
	case "valid":
		add("revoked_at IS NULL AND valid_before > ?", now)
	case "expired":
		add("revoked_at IS NULL AND valid_before <= ?", now)
	case "revoked":
		add("revoked_at IS NOT NULL")
	default:
		return nil, 0, invalid("status: %q is not one of valid, expired, revoked", f.Status)
	}
	if f.Before > 0 {
		add("id < ?", f.Before)
	}
	q := "SELECT " + certColumns + " FROM sshca_certs"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id DESC LIMIT " + strconv.Itoa(f.Limit+1)
	certs, ids, err := a.queryCerts(ctx, q, args...)
	if err != nil {
		return nil, 0, err
	}
	var next int64
	if len(certs) > f.Limit {
		certs, next = certs[:f.Limit], ids[f.Limit-1]
	}
	return certs, next, nil
}

// GetCert returns the certificate with a serial.
func (a *Authority) GetCert(ctx context.Context, serial uint64) (Cert, error) {
	certs, _, err := a.queryCerts(ctx, "SELECT "+certColumns+" FROM sshca_certs WHERE serial = ?", int64(serial))
	if err != nil {
		return Cert{}, err
	}
	if len(certs) == 0 {
		return Cert{}, fmt.Errorf("certificate with serial %d: %w", serial, ErrNotFound)
	}
	return certs[0], nil
}

func (a *Authority) queryCerts(ctx context.Context, q string, args ...any) ([]Cert, []int64, error) {
	rows, err := a.store.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, nil, fmt.Errorf("sshca: list certificates: %w", err)
	}
	defer rows.Close()
	out := []Cert{}
	var ids []int64
	now := a.now()
	for rows.Next() {
		var (
			c                 Cert
			id, serial        int64
			principals        string
			after, before, at int64
			revoked           sql.NullInt64
		)
		if err := rows.Scan(&id, &serial, &c.CA, &c.CAKeyID, &c.CertType, &c.Identity, &c.Policy, &c.KeyID, &principals,
			&c.Fingerprint, &after, &before, &at, &c.ClientIP, &c.RequestID, &c.Certificate, &revoked); err != nil {
			return nil, nil, fmt.Errorf("sshca: list certificates: %w", err)
		}
		c.Serial = uint64(serial)
		c.Principals = strings.Fields(principals)
		c.ValidAfter, c.ValidBefore, c.IssuedAt = time.UnixMilli(after).UTC(), time.UnixMilli(before).UTC(), time.UnixMilli(at).UTC()
		c.Status = "valid"
		if !now.Before(c.ValidBefore) {
			c.Status = "expired"
		}
		if revoked.Valid {
			t := time.UnixMilli(revoked.Int64).UTC()
			c.RevokedAt, c.Status = &t, "revoked"
		}
		out = append(out, c)
		ids = append(ids, id)
	}
	return out, ids, rows.Err()
}

// escapeLike escapes LIKE wildcards in user input.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(s)
}

// PruneExpired deletes the records of certificates that expired before
// cutoff, returning how many went. Revocations are kept.
func (a *Authority) PruneExpired(ctx context.Context, cutoff time.Time) (int64, error) {
	res, err := a.store.ExecContext(ctx, "DELETE FROM sshca_certs WHERE valid_before < ?", cutoff.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("sshca: prune certificates: %w", err)
	}
	return res.RowsAffected()
}
