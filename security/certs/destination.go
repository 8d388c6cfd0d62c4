package certs

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/egress"
)

// Destination kinds.
const (
	// DestFile writes the certificate chain (and key) to files and runs
	// a reload command.
	DestFile = "file"
	// DestWebhook POSTs the certificate chain (and key) as JSON to an
	// https:// URL (plain HTTP would carry the private key in the clear).
	DestWebhook = "webhook"
)

// Destination is where a certificate is deployed. Rotation copies a
// certificate's destinations to its replacement and deploys it there.
type Destination struct {
	ID     int64  `json:"id"`
	CertID int64  `json:"cert_id"`
	Kind   string `json:"kind"`
	// CertPath receives the certificate and chain (PEM); KeyPath, when
	// set, the private key (PEM, mode 0600).
	CertPath string `json:"cert_path,omitempty"`
	KeyPath  string `json:"key_path,omitempty"`
	// ReloadCommand runs (sh -c) after the files are written; a non-zero
	// exit rolls the files back and runs it again.
	ReloadCommand string `json:"reload_command,omitempty"`
	// URL receives a webhook deployment.
	URL            string     `json:"url,omitempty"`
	LastDeployedAt *time.Time `json:"last_deployed_at,omitempty"`
	LastStatus     string     `json:"last_status,omitempty"`
}

// WebhookDeployment is the body a webhook destination receives.
type WebhookDeployment struct {
	Serial      string    `json:"serial"`
	CommonName  string    `json:"common_name"`
	Names       []string  `json:"names"`
	NotAfter    time.Time `json:"not_after"`
	Certificate string    `json:"certificate"`
	Chain       string    `json:"chain"`
	PrivateKey  string    `json:"private_key,omitempty"`
	// Rollback is true when Gaffer re-sends the previous certificate
	// after the new one failed.
	Rollback bool `json:"rollback"`
}

// ReloadTimeout bounds a reload command.
const ReloadTimeout = time.Minute

func (d *Destination) validate() error {
	switch d.Kind {
	case DestFile:
		if d.CertPath == "" || !filepath.IsAbs(d.CertPath) || (d.KeyPath != "" && !filepath.IsAbs(d.KeyPath)) {
			return badInput("a file destination needs an absolute cert_path (and key_path, when set)")
		}
	case DestWebhook:
		return checkWebhookURL(d.URL)
	default:
		return badInput("destination kind %q: want file or webhook", d.Kind)
	}
	return nil
}

// checkWebhookURL accepts only https:// URLs for webhook destinations:
// the deployment carries the certificate's private key.
func checkWebhookURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return badInput("url: a webhook destination needs an https:// URL, got %q", egress.Excerpt([]byte(raw)))
	}
	if u.Scheme != "https" {
		return badInput("url: a webhook destination receives the private key, so it must be https://, not %s:// (%s)",
			u.Scheme, u.Host)
	}
	return nil
}

// AddDestination records where a certificate is deployed. Destinations
// receive private keys, so callers must hold the admin scope.
func (m *Manager) AddDestination(ctx context.Context, d Destination) (Destination, error) {
	if err := d.validate(); err != nil {
		return d, err
	}
	if _, err := m.Get(ctx, d.CertID); err != nil {
		return d, err
	}
	err := m.store.QueryRowContext(ctx, `INSERT INTO certs_destinations (cert_id, kind, cert_path, key_path, reload_command, url, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, d.CertID, d.Kind, d.CertPath, d.KeyPath, d.ReloadCommand, d.URL,
		m.now().UnixMilli()).Scan(&d.ID)
	if err != nil {
		return d, fmt.Errorf("add destination: %w", err)
	}
	return d, nil
}

// Destinations lists a certificate's destinations.
func (m *Manager) Destinations(ctx context.Context, certID int64) ([]Destination, error) {
	rows, err := m.store.QueryContext(ctx, `SELECT id, cert_id, kind, cert_path, key_path, reload_command, url, last_deployed_at, last_status
		FROM certs_destinations WHERE cert_id = ? ORDER BY id`, certID)
	if err != nil {
		return nil, fmt.Errorf("list destinations: %w", err)
	}
	defer rows.Close()
	out := []Destination{}
	for rows.Next() {
		var d Destination
		var at sql.NullInt64
		if err := rows.Scan(&d.ID, &d.CertID, &d.Kind, &d.CertPath, &d.KeyPath, &d.ReloadCommand, &d.URL, &at, &d.LastStatus); err != nil {
			return nil, err
		}
		if at.Valid {
			t := time.UnixMilli(at.Int64).UTC()
			d.LastDeployedAt = &t
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// DeleteDestination removes a destination.
func (m *Manager) DeleteDestination(ctx context.Context, certID, id int64) error {
	res, err := m.store.ExecContext(ctx, `DELETE FROM certs_destinations WHERE id = ? AND cert_id = ?`, id, certID)
	if err != nil {
		return fmt.Errorf("delete destination %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("destination %d: %w", id, ErrNotFound)
	}
	return nil
}

// material is what a deployment writes.
type material struct {
	cert   Certificate
	chain  []byte
	keyPEM []byte
	hasKey bool
}

func (m *Manager) material(ctx context.Context, c Certificate) (material, error) {
	mat := material{cert: c, chain: []byte(c.Certificate + c.Chain)}
	var sealed []byte
	if err := m.store.QueryRowContext(ctx, `SELECT sealed_key FROM certs_certificates WHERE id = ?`, c.ID).Scan(&sealed); err != nil {
		return mat, err
	}
	if sealed != nil {
		der, err := m.keys.Open(sealed, "cert:"+c.Serial)
		if err != nil {
			return mat, err
		}
		mat.keyPEM, mat.hasKey = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), true
	}
	return mat, nil
}

// Deploy writes c to destination d. When the reload (or the webhook)
// fails it restores what was there before (for a webhook: re-sends
// previous, when given) and reloads again, and reports the failure with
// the rollback's outcome.
func (m *Manager) Deploy(ctx context.Context, d Destination, c Certificate, previous *Certificate) error {
	mat, err := m.material(ctx, c)
	if err != nil {
		return err
	}
	var prev *material
	if previous != nil && d.Kind == DestWebhook {
		pm, err := m.material(ctx, *previous)
		if err != nil {
			return err
		}
		prev = &pm
	}
	switch d.Kind {
	case DestFile:
		err = m.deployFile(ctx, d, mat)
	case DestWebhook:
		err = m.deployWebhook(ctx, d, mat, prev)
	default:
		err = fmt.Errorf("destination %d: unknown kind %q", d.ID, d.Kind)
	}
	status := "deployed " + c.Serial
	if err != nil {
		status = "failed: " + err.Error()
	}
	if _, uerr := m.store.ExecContext(ctx, `UPDATE certs_destinations SET last_deployed_at = ?, last_status = ? WHERE id = ?`,
		m.now().UnixMilli(), truncate(status, 1000), d.ID); uerr != nil && err == nil {
		err = uerr
	}
	return err
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

type savedFile struct {
	path    string
	data    []byte
	existed bool
}

func saveFile(path string) (savedFile, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return savedFile{path: path}, nil
	}
	return savedFile{path: path, data: b, existed: err == nil}, err
}

func (f savedFile) restore() error {
	if !f.existed {
		return os.Remove(f.path)
	}
	return writeAtomic(f.path, f.data, 0o600)
}

// writeAtomic writes data to path through a temporary file, with exactly
// mode: `gaffer serve` runs with umask 077 (its own files are private),
// and a certificate is for other programs to read.
func writeAtomic(path string, data []byte, mode os.FileMode) error {
	tmp := path + ".gaffer-new"
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return err
	}
	if err := os.Chmod(tmp, mode); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}

func (m *Manager) deployFile(ctx context.Context, d Destination, mat material) error {
	if d.KeyPath != "" && !mat.hasKey {
		return fmt.Errorf("destination %d wants a key file, but Gaffer does not hold the key of %s", d.ID, mat.cert.Serial)
	}
	var saved []savedFile
	for _, p := range []string{d.CertPath, d.KeyPath} {
		if p == "" {
			continue
		}
		f, err := saveFile(p)
		if err != nil {
			return fmt.Errorf("destination %d: read %s: %w", d.ID, p, err)
		}
		saved = append(saved, f)
	}
	rollback := func() error {
		var errs []error
		for _, f := range saved {
			errs = append(errs, f.restore())
		}
		return errors.Join(errs...)
	}
	if err := writeAtomic(d.CertPath, mat.chain, 0o644); err != nil {
		return fmt.Errorf("destination %d: write %s: %w", d.ID, d.CertPath, err)
	}
	if d.KeyPath != "" {
		if err := writeAtomic(d.KeyPath, mat.keyPEM, 0o600); err != nil {
			rollback()
			return fmt.Errorf("destination %d: write %s: %w", d.ID, d.KeyPath, err)
		}
	}
	if d.ReloadCommand == "" {
		return nil
	}
	out, err := runReload(ctx, d.ReloadCommand)
	if err == nil {
		return nil
	}
	rerr := rollback()
	if rerr == nil {
		if _, err2 := runReload(ctx, d.ReloadCommand); err2 != nil {
			rerr = fmt.Errorf("reload after rollback: %w", err2)
		}
	}
	if rerr != nil {
		return fmt.Errorf("destination %d: reload failed (%w: %s) and the rollback failed too: %w", d.ID, err, out, rerr)
	}
	return fmt.Errorf("destination %d: reload failed (%w: %s); rolled back to the previous files", d.ID, err, out)
}

func runReload(ctx context.Context, command string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, ReloadTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, "/bin/sh", "-c", command).CombinedOutput()
	return truncate(string(bytes.TrimSpace(out)), 500), err
}

func (m *Manager) deployWebhook(ctx context.Context, d Destination, mat material, previous *material) error {
	if err := checkWebhookURL(d.URL); err != nil {
		// Stored before plain HTTP was refused: nothing is sent.
		return fmt.Errorf("destination %d: %w; delete it and add it again with an https:// URL", d.ID, err)
	}
	send := func(mat material, rollback bool) error {
		body, _ := json.Marshal(WebhookDeployment{Serial: mat.cert.Serial, CommonName: mat.cert.CommonName, Names: mat.cert.Names,
			NotAfter: mat.cert.NotAfter, Certificate: mat.cert.Certificate, Chain: mat.cert.Chain, PrivateKey: string(mat.keyPEM),
			Rollback: rollback})
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := m.httpClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode/100 == 3 {
			return fmt.Errorf("webhook answered %s: redirects are not followed (the body carries the private key); fix the url", resp.Status)
		}
		if resp.StatusCode/100 != 2 {
			return fmt.Errorf("webhook answered %s", resp.Status)
		}
		return nil
	}
	err := send(mat, false)
	if err == nil {
		return nil
	}
	if previous != nil {
		if rerr := send(*previous, true); rerr != nil {
			return fmt.Errorf("destination %d: %w; re-sending the previous certificate failed too: %w", d.ID, err, rerr)
		}
		return fmt.Errorf("destination %d: %w; re-sent the previous certificate", d.ID, err)
	}
	return fmt.Errorf("destination %d: %w", d.ID, err)
}
