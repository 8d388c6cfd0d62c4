package certs

import (
	"context"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
)

// ExportRequest asks for a private key. Format is "pem" (default: the
// key, certificate and chain in one PEM document) or "pkcs12" (with
// Password, which PKCS #12 requires).
type ExportRequest struct {
	Format   string `json:"format,omitempty"`
	Password string `json:"password,omitempty"`
}

// Export returns a certificate's private key with the certificate and
// chain, in PEM or PKCS #12. Callers must hold the admin scope and audit
// the export.
func (m *Manager) Export(ctx context.Context, id int64, req ExportRequest) ([]byte, string, error) {
	c, err := m.Get(ctx, id)
	if err != nil {
		return nil, "", err
	}
	var sealed []byte
	if err := m.store.QueryRowContext(ctx, `SELECT sealed_key FROM certs_certificates WHERE id = ?`, id).Scan(&sealed); err != nil {
		return nil, "", fmt.Errorf("export %s: %w", c.Serial, err)
	}
	if sealed == nil {
		return nil, "", badInput("Gaffer does not hold the private key of %s (it came from a CSR, an import or a scan)", c.Serial)
	}
	der, err := m.keys.Open(sealed, "cert:"+c.Serial)
	if err != nil {
		return nil, "", err
	}
	return encodeExport(der, c.Certificate+c.Chain, req)
}

// ExportAuthorityKey returns an internal authority's private key, for
// keeping a root offline.
func (m *Manager) ExportAuthorityKey(ctx context.Context, name string, req ExportRequest) ([]byte, string, error) {
	ca, err := m.CA(ctx, name)
	if err != nil {
		return nil, "", err
	}
	if !ca.Online() {
		return nil, "", fmt.Errorf("authority %s: %w", name, ErrOffline)
	}
	der, err := marshalKey(ca.signer)
	if err != nil {
		return nil, "", err
	}
	chain := string(pemCert(ca.Cert.Raw))
	for _, c := range ca.Chain {
		chain += string(pemCert(c.Raw))
	}
	return encodeExport(der, chain, req)
}

func encodeExport(keyDER []byte, chainPEM string, req ExportRequest) ([]byte, string, error) {
	switch req.Format {
	case "", "pem":
		out := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
		return append(out, chainPEM...), "application/x-pem-file", nil
	case "pkcs12", "p12", "pfx":
		if len(req.Password) < 8 {
			return nil, "", badInput("a PKCS #12 export needs a password of at least 8 characters")
		}
		key, err := parseKey(keyDER)
		if err != nil {
			return nil, "", err
		}
		certs, err := ParseBundle([]byte(chainPEM))
		if err != nil {
			return nil, "", fmt.Errorf("export: certificate chain: %w", err)
		}
		if len(certs.Certificates) == 0 {
			return nil, "", errors.New("export: certificate chain: no certificate")
		}
		p12, err := pkcs12.Modern.WithRand(rand.Reader).Encode(key, certs.Certificates[0], certs.Certificates[1:], req.Password)
		if err != nil {
			return nil, "", fmt.Errorf("export: PKCS #12: %w", err)
		}
		return p12, "application/x-pkcs12", nil
	}
	return nil, "", badInput("export format %q: want pem or pkcs12", req.Format)
}

// apiExportCertificate answers a certificate with its private key (POST /certificates/{ref}/export).
func (s *Service) apiExportCertificate(w http.ResponseWriter, r *http.Request) error {
	var req ExportRequest
	c, err := s.certFor(r, &req)
	if err != nil {
		return err
	}
	out, ctype, err := s.mgr.Export(r.Context(), c.ID, req)
	if err != nil {
		return apiError(err)
	}
	httpapi.SetAuditDetail(r, "private key exported as "+ctype)
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", "no-store")
	_, err = w.Write(out)
	return err
}

// apiExportAuthority answers an authority's private key (POST /authorities/{name}/export).
func (s *Service) apiExportAuthority(w http.ResponseWriter, r *http.Request) error {
	var req ExportRequest
	if err := decodeOptional(r, &req); err != nil {
		return err
	}
	httpapi.SetAuditTarget(r, "authority:"+r.PathValue("name"))
	out, ctype, err := s.mgr.ExportAuthorityKey(r.Context(), r.PathValue("name"), req)
	if err != nil {
		return apiError(err)
	}
	httpapi.SetAuditDetail(r, "authority private key exported as "+ctype)
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", "no-store")
	_, err = w.Write(out)
	return err
}
