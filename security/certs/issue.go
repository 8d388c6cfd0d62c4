package certs

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/audit"
	"github.com/gaffer-sre/gaffer/internal/platform/store"
)

// IssueRequest asks an internal authority for a certificate, either for
// the key of a CSR or for a key Gaffer generates and keeps sealed.
type IssueRequest struct {
	// Authority issues ("" is the default issuing authority).
	Authority  string   `json:"authority,omitempty"`
	CommonName string   `json:"common_name,omitempty"`
	SANs       []string `json:"sans,omitempty"`
	// CSR is a PEM certificate signing request; without one Gaffer
	// generates a key of KeyType (ECDSA P-256 by default).
	CSR     string `json:"csr,omitempty"`
	KeyType string `json:"key_type,omitempty"`
	// Validity is the lifetime ("90d"); 0 is the policy's default.
	Validity Duration `json:"validity,omitempty"`
	// KeyUsages ("digital_signature", "key_encipherment", ...) and
	// ExtKeyUsages ("server_auth", "client_auth", ...) override the
	// defaults (digital signature; server and client auth).
	KeyUsages    []string `json:"key_usages,omitempty"`
	ExtKeyUsages []string `json:"ext_key_usages,omitempty"`
	Owner        string   `json:"owner,omitempty"`
	Team         string   `json:"team,omitempty"`
	Notes        string   `json:"notes,omitempty"`
	// NotifyDays overrides the expiry notification thresholds.
	NotifyDays       []int `json:"notify_days,omitempty"`
	AutoRotate       bool  `json:"auto_rotate,omitempty"`
	RotateBeforeDays int   `json:"rotate_before_days,omitempty"`
	// Replaces links the new certificate to the one it replaces.
	Replaces int64 `json:"replaces,omitempty"`
}

var keyUsageNames = map[string]x509.KeyUsage{
	"digital_signature": x509.KeyUsageDigitalSignature, "content_commitment": x509.KeyUsageContentCommitment,
	"key_encipherment": x509.KeyUsageKeyEncipherment, "data_encipherment": x509.KeyUsageDataEncipherment,
	"key_agreement": x509.KeyUsageKeyAgreement,
}

var extKeyUsageNames = map[string]x509.ExtKeyUsage{
	"server_auth": x509.ExtKeyUsageServerAuth, "client_auth": x509.ExtKeyUsageClientAuth,
	"code_signing": x509.ExtKeyUsageCodeSigning, "email_protection": x509.ExtKeyUsageEmailProtection,
	"time_stamping": x509.ExtKeyUsageTimeStamping, "ocsp_signing": x509.ExtKeyUsageOCSPSigning,
}

// Issue checks a request against the authority's policy, signs it, lints
// it and stores it. A refused request (bad input, policy, lint) stores
// nothing and is audited as a refusal.
func (m *Manager) Issue(ctx context.Context, req IssueRequest) (Certificate, error) {
	c, err := m.issueAny(ctx, req)
	if err != nil {
		var pe *PolicyError
		var le *LintError
		var ie *InputError
		if errors.As(err, &pe) || errors.As(err, &le) || errors.As(err, &ie) {
			m.record(ctx, "certs.issue.refused", "cn:"+req.CommonName, audit.OutcomeFailure, err.Error())
		}
	}
	return c, err
}

// issueAny issues from an internal authority or obtains from an ACME one.
func (m *Manager) issueAny(ctx context.Context, req IssueRequest) (Certificate, error) {
	if req.Authority != "" {
		var kind string
		if err := m.store.QueryRowContext(ctx, `SELECT kind FROM certs_authorities WHERE name = ?`, req.Authority).Scan(&kind); err == nil && kind == KindACME {
			return m.obtainACME(ctx, req)
		}
	}
	return m.issue(ctx, req, SourceIssued)
}

func (m *Manager) issue(ctx context.Context, req IssueRequest, source string) (Certificate, error) {
	ca, err := m.CA(ctx, req.Authority)
	if err != nil {
		return Certificate{}, err
	}
	if !ca.Online() {
		return Certificate{}, fmt.Errorf("authority %s: %w", ca.Name, ErrOffline)
	}
	if ca.Kind == KindRoot {
		return Certificate{}, badInput("authority %s is a root: issue from an intermediate", ca.Name)
	}
	sans := append([]string(nil), req.SANs...)
	var pub crypto.PublicKey
	var key crypto.Signer
	if strings.TrimSpace(req.CSR) != "" {
		csr, err := ParseCSR([]byte(req.CSR))
		if err != nil {
			return Certificate{}, err
		}
		pub = csr.PublicKey
		if req.CommonName == "" {
			req.CommonName = csr.Subject.CommonName
		}
		sans = append(sans, csrNames(csr)...)
	} else {
		if key, err = GenerateKey(req.KeyType); err != nil {
			return Certificate{}, badInput("%v", err)
		}
		pub = key.Public()
	}
	if req.CommonName != "" {
		sans = append([]string{req.CommonName}, sans...)
	}
	names, err := ParseNames(sans)
	if err != nil {
		return Certificate{}, err
	}
	if err := ca.Policy.CheckNames(names); err != nil {
		return Certificate{}, err
	}
	kt, err := KeyType(pub)
	if err != nil {
		return Certificate{}, badInput("%v", err)
	}
	if err := ca.Policy.CheckKeyType(kt); err != nil {
		return Certificate{}, err
	}
	validity, err := ca.Policy.CheckValidity(time.Duration(req.Validity))
	if err != nil {
		return Certificate{}, err
	}
	if err := checkNotifyDays(req.NotifyDays); err != nil {
		return Certificate{}, err
	}
	t := &Template{CommonName: req.CommonName, Names: names, PublicKey: pub, Validity: validity, OwnKey: key != nil}
	if t.CommonName == "" && len(names.DNS) > 0 {
		t.CommonName = names.DNS[0]
	}
	if len(t.CommonName) > 64 {
		t.CommonName = ""
	}
	for _, u := range req.KeyUsages {
		ku, ok := keyUsageNames[u]
		if !ok {
			return Certificate{}, badInput("key usage %q is not one of digital_signature, key_encipherment, key_agreement, ...", u)
		}
		t.KeyUsage |= ku
	}
	for _, u := range req.ExtKeyUsages {
		eku, ok := extKeyUsageNames[u]
		if !ok {
			return Certificate{}, badInput("extended key usage %q is not one of server_auth, client_auth, ...", u)
		}
		t.ExtKeyUsage = append(t.ExtKeyUsage, eku)
	}
	if t.NotBefore.IsZero() {
		t.NotBefore = m.now().Add(-time.Minute)
	}
	cert, err := ca.Sign(t)
	if err != nil {
		return Certificate{}, err
	}
	if req.Replaces != 0 {
		if _, err := m.Get(ctx, req.Replaces); err != nil {
			return Certificate{}, badInput("replaces: no certificate %d", req.Replaces)
		}
	}
	return m.storeNew(ctx, newRecord(req, cert, ca.Chain0(), ca.Name, source), key)
}

// newRecord is what an issuance stores, from its request.
func newRecord(req IssueRequest, cert *x509.Certificate, chain []*x509.Certificate, authority, source string) *record {
	return &record{cert: cert, chain: chain, authority: authority, source: source, owner: req.Owner, team: req.Team,
		notes: req.Notes, notifyDays: req.NotifyDays, autoRotate: req.AutoRotate, rotateDays: req.RotateBeforeDays,
		replaces: req.Replaces}
}

// storeNew seals key (when Gaffer generated one) and stores r.
func (m *Manager) storeNew(ctx context.Context, r *record, key crypto.Signer) (Certificate, error) {
	if key != nil {
		der, err := marshalKey(key)
		if err != nil {
			return Certificate{}, err
		}
		if r.sealedKey, r.kekID, err = m.keys.Seal(der, "cert:"+SerialHex(r.cert)); err != nil {
			return Certificate{}, err
		}
	}
	var id int64
	err := m.store.InTx(ctx, func(tx *store.Tx) error {
		var err error
		id, err = m.insertCert(ctx, tx, r, actor(ctx))
		return err
	})
	if err != nil {
		return Certificate{}, err
	}
	return m.Get(ctx, id)
}

// Chain0 is the certificate chain a leaf of this CA is served with: the CA
// itself and its issuers, without the root.
func (ca *CA) Chain0() []*x509.Certificate {
	out := []*x509.Certificate{ca.Cert}
	for _, c := range ca.Chain {
		if c.IsCA && len(c.Raw) > 0 && string(c.RawIssuer) == string(c.RawSubject) {
			break
		}
		out = append(out, c)
	}
	if ca.Kind == KindRoot {
		return nil
	}
	return out
}

// seriesLabel names a certificate in audit entries.
func certTarget(c Certificate) string { return "cert:" + strconv.FormatInt(c.ID, 10) + "/" + c.Serial }
