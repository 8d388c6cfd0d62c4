package main

import (
	"bytes"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gaffer-sre/gaffer/internal/platform/cli"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
	"github.com/gaffer-sre/gaffer/security/certs"
)

func init() { registerCommand(newCertsCommand) }

func newCertsCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "certs", Short: "TLS certificates: issue, list, revoke, rotate, scan (see docs/certs.md)"}
	flags := cli.AddClientFlags(cmd)
	cmd.AddCommand(certsIssueCommand(flags), certsListCommand(flags), certsShowCommand(flags), certsRevokeCommand(flags),
		certsRotateCommand(flags), certsScanCommand(flags), certsImportCommand(flags), certsExportCommand(flags),
		certsBulkCommand(flags), certsCACommand(flags), certsACMECommand(flags))
	return cmd
}

// certsPath is the API prefix.
const certsPath = "/api/v1/certs"

func certsIssueCommand(flags *cli.ClientFlags) *cobra.Command {
	var req certs.IssueRequest
	var validity, outCert, outKey string
	var serverKey bool
	cmd := &cobra.Command{
		Use:   "issue --cn NAME [--san NAME...] --out-cert FILE --out-key FILE",
		Short: "Issue a certificate; the key is generated here and never leaves this machine",
		Long: "Issue a certificate from an internal authority (or an ACME one). By default the key is generated\n" +
			"locally, only a CSR is sent, and the key is written to --out-key. With --server-key Gaffer generates\n" +
			"and keeps the key sealed (for rotation and deployment); it can then only be exported by an admin.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := flags.Client()
			if err != nil {
				return err
			}
			if req.CommonName == "" && len(req.SANs) == 0 {
				return errors.New("--cn or --san is required")
			}
			if req.Validity, err = parseCertsDuration(validity); err != nil {
				return err
			}
			var keyPEM []byte
			if !serverKey {
				if outKey == "" {
					return errors.New("--out-key is required (or --server-key to let Gaffer keep the key)")
				}
				if keyPEM, req.CSR, err = localCSR(req.KeyType, req.CommonName); err != nil {
					return err
				}
				req.KeyType = ""
			}
			var out certs.Certificate
			if err := c.Do(cmd.Context(), http.MethodPost, certsPath+"/certificates", req, &out); err != nil {
				return err
			}
			if err := cli.WriteOut(cmd.OutOrStdout(), outCert, []byte(out.Certificate+out.Chain), 0o644); err != nil {
				return fmt.Errorf("write certificate: %w", err)
			}
			if keyPEM != nil {
				if err := cli.WriteOut(cmd.OutOrStdout(), outKey, keyPEM, 0o600); err != nil {
					return fmt.Errorf("write key: %w", err)
				}
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "issued %s (serial %s, id %d) by %s, valid until %s\n",
				out.CommonName, out.Serial, out.ID, out.Authority, out.NotAfter.Format(time.RFC3339))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&req.CommonName, "cn", "", "common name (also a SAN)")
	f.StringSliceVar(&req.SANs, "san", nil, "subject alternative names: DNS names, IPs, e-mail addresses, URIs")
	f.StringVar(&req.Authority, "authority", "", "issuing authority (default: the server's default)")
	f.StringVar(&req.KeyType, "key-type", certs.KeyECDSAP256, "key type: "+strings.Join(certs.KeyTypes, ", "))
	f.StringVar(&validity, "validity", "", "lifetime, e.g. 90d (default: the authority's)")
	f.StringVar(&req.Owner, "owner", "", "owner, for notifications")
	f.StringVar(&req.Team, "team", "", "team")
	f.StringVar(&req.Notes, "notes", "", "notes")
	f.IntSliceVar(&req.NotifyDays, "notify-days", nil, "days before expiry to notify (default 30,15,2)")
	f.BoolVar(&req.AutoRotate, "auto-rotate", false, "reissue automatically before expiry (needs --server-key to deploy a key)")
	f.StringVar(&outCert, "out-cert", "", "file for the certificate and chain (default stdout)")
	f.StringVar(&outKey, "out-key", "", "file for the private key (mode 0600)")
	f.BoolVar(&serverKey, "server-key", false, "let Gaffer generate and keep the key instead")
	return cmd
}

func parseCertsDuration(s string) (certs.Duration, error) {
	d, err := certs.ParseDuration(s)
	return certs.Duration(d), err
}

// localCSR generates a key and a CSR for it; the names travel in the
// request, the CSR proves the key.
func localCSR(keyType, cn string) (keyPEM []byte, csrPEM string, err error) {
	key, err := certs.GenerateKey(keyType)
	if err != nil {
		return nil, "", err
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: cn}}, key)
	if err != nil {
		return nil, "", fmt.Errorf("create CSR: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, "", err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
		string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})), nil
}

func certsListCommand(flags *cli.ClientFlags) *cobra.Command {
	q := url.Values{}
	var expiring, owner, team, authority, domain, status, source, query string
	var limit int
	cmd := &cobra.Command{
		Use:   "list [--expiring 30d] [--owner O] [--domain D]",
		Short: "List the inventory",
		Args:  cobra.NoArgs,
	}
	out := cli.AddOutputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if err := out.Validate(); err != nil {
			return err
		}
		c, err := flags.Client()
		if err != nil {
			return err
		}
		for k, v := range map[string]string{"expiring": expiring, "owner": owner, "team": team, "authority": authority,
			"domain": domain, "status": status, "source": source, "q": query} {
			if v != "" {
				q.Set(k, v)
			}
		}
		var all []certs.Certificate
		for {
			var page certs.ListResponse
			if err := c.Do(cmd.Context(), http.MethodGet, certsPath+"/certificates?"+q.Encode(), nil, &page); err != nil {
				return err
			}
			all = append(all, page.Items...)
			if page.NextCursor == "" || len(all) >= limit {
				break
			}
			q.Set("cursor", page.NextCursor)
		}
		if len(all) > limit {
			all = all[:limit]
		}
		return out.Print(cmd.OutOrStdout(), all, func(t *cli.Table) {
			t.Row("ID", "SERIAL", "COMMON NAME", "STATUS", "EXPIRES", "DAYS", "OWNER", "AUTHORITY", "SOURCE")
			for _, x := range all {
				t.Row(x.ID, x.Serial, x.CommonName, x.Status, x.NotAfter.Format("2006-01-02"), x.DaysLeft, x.Owner, x.Authority, x.Source)
			}
		})
	}
	f := cmd.Flags()
	f.StringVar(&expiring, "expiring", "", "only certificates expiring within this time, e.g. 30d")
	f.StringVar(&owner, "owner", "", "only this owner's")
	f.StringVar(&team, "team", "", "only this team's")
	f.StringVar(&authority, "authority", "", "only this authority's")
	f.StringVar(&domain, "domain", "", "only this name, or .example.com for every name under it")
	f.StringVar(&status, "status", "", "active, revoked, expired or replaced")
	f.StringVar(&source, "source", "", "issued, imported, discovered or acme")
	f.StringVar(&query, "q", "", "substring of names, owner, team or notes")
	f.IntVar(&limit, "limit", 1000, "at most this many")
	return cmd
}

func certsShowCommand(flags *cli.ClientFlags) *cobra.Command {
	var pemOnly bool
	cmd := &cobra.Command{Use: "show ID|SERIAL", Short: "Show a certificate (--pem for the chain)", Args: cobra.ExactArgs(1)}
	out := cli.AddOutputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		c, err := flags.Client()
		if err != nil {
			return err
		}
		var x certs.Certificate
		if err := c.Do(cmd.Context(), http.MethodGet, certsPath+"/certificates/"+url.PathEscape(args[0]), nil, &x); err != nil {
			return err
		}
		if pemOnly {
			_, err := fmt.Fprint(cmd.OutOrStdout(), x.Certificate+x.Chain)
			return err
		}
		return out.Print(cmd.OutOrStdout(), x, func(t *cli.Table) {
			t.Row("FIELD", "VALUE")
			t.Row("id", x.ID)
			t.Row("serial", x.Serial)
			t.Row("common name", x.CommonName)
			t.Row("names", strings.Join(x.Names, ", "))
			t.Row("issuer", x.Issuer)
			t.Row("status", x.Status)
			t.Row("valid", x.NotBefore.Format(time.RFC3339)+" to "+x.NotAfter.Format(time.RFC3339))
			t.Row("key", x.KeyAlgorithm)
			t.Row("owner / team", x.Owner+" / "+x.Team)
			t.Row("authority", x.Authority+" ("+x.Source+")")
			t.Row("fingerprint", x.Fingerprint)
		})
	}
	cmd.Flags().BoolVar(&pemOnly, "pem", false, "print the certificate and chain as PEM")
	return cmd
}

func certsRevokeCommand(flags *cli.ClientFlags) *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use: "revoke SERIAL|ID --reason R", Short: "Revoke a certificate (its CRL and OCSP answer at once)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := flags.Client()
			if err != nil {
				return err
			}
			var x certs.Certificate
			if err := c.Do(cmd.Context(), http.MethodPost, certsPath+"/certificates/"+url.PathEscape(args[0])+"/revoke",
				certs.RevokeRequest{Reason: reason}, &x); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "revoked %s (%s): %s\n", x.Serial, x.CommonName, x.RevocationReason)
			return nil
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "unspecified", "key_compromise, superseded, cessation_of_operation, affiliation_changed, ...")
	return cmd
}

func certsRotateCommand(flags *cli.ClientFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rotate [SERIAL|ID...]",
		Short: "Reissue and redeploy certificates now; with none named, every one due for automatic rotation",
	}
	out := cli.AddOutputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		c, err := flags.Client()
		if err != nil {
			return err
		}
		var res certs.RotateResponse
		if err := c.Do(cmd.Context(), http.MethodPost, certsPath+"/rotate", certs.RotateRequest{Certificates: args}, &res); err != nil {
			return err
		}
		if err := out.Print(cmd.OutOrStdout(), res, func(t *cli.Table) {
			t.Row("OLD", "NEW", "COMMON NAME", "EXPIRES", "DEPLOYED", "FAILED")
			for _, r := range res.Rotated {
				t.Row(r.Old.Serial, r.New.Serial, r.New.CommonName, r.New.NotAfter.Format("2006-01-02"), len(r.Deployed), len(r.Failed))
			}
			for _, id := range res.Enqueued {
				t.Row(id, "(enqueued)", "", "", "", "")
			}
		}); err != nil {
			return err
		}
		if len(res.Errors) > 0 {
			return errors.New(strings.Join(res.Errors, "; "))
		}
		return nil
	}
	return cmd
}

func certsScanCommand(flags *cli.ClientFlags) *cobra.Command {
	var req certs.ScanAPIRequest
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "scan HOST:PORT|HOST|CIDR...",
		Short: "Discover certificates on TLS endpoints and add them to the inventory",
		Args:  cobra.MinimumNArgs(1),
	}
	out := cli.AddOutputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		c, err := flags.Client()
		if err != nil {
			return err
		}
		req.Targets, req.Timeout = args, certs.Duration(timeout)
		var res certs.ScanResponse
		if err := c.Do(cmd.Context(), http.MethodPost, certsPath+"/scans", req, &res); err != nil {
			return err
		}
		return out.Print(cmd.OutOrStdout(), res, func(t *cli.Table) {
			t.Row("ENDPOINT", "SERIAL", "COMMON NAME", "EXPIRES", "NEW", "ERROR")
			for _, r := range res.Results {
				exp := ""
				if !r.NotAfter.IsZero() {
					exp = r.NotAfter.Format("2006-01-02")
				}
				t.Row(r.Endpoint, r.Serial, r.CommonName, exp, r.New, r.Error)
			}
		})
	}
	f := cmd.Flags()
	f.IntSliceVar(&req.Ports, "port", nil, "ports for targets without one (default 443)")
	f.DurationVar(&timeout, "handshake-timeout", certs.DefaultScanTimeout, "time each TLS handshake may take")
	f.StringVar(&req.Owner, "owner", "", "owner of newly discovered certificates")
	return cmd
}

func certsImportCommand(flags *cli.ClientFlags) *cobra.Command {
	var req certs.ImportRequest
	cmd := &cobra.Command{
		Use: "import FILE", Short: "Import the certificates of a PEM bundle (keys in it are ignored)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := flags.Client()
			if err != nil {
				return err
			}
			b, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			req.PEM = string(b)
			var res certs.ImportResponse
			if err := c.Do(cmd.Context(), http.MethodPost, certsPath+"/import", req, &res); err != nil {
				return err
			}
			for _, x := range res.Imported {
				fmt.Fprintf(cmd.OutOrStdout(), "imported %d %s %s\n", x.ID, x.Serial, x.CommonName)
			}
			for _, s := range res.Existing {
				fmt.Fprintf(cmd.OutOrStdout(), "already known %s\n", s)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&req.Owner, "owner", "", "owner")
	cmd.Flags().StringVar(&req.Team, "team", "", "team")
	return cmd
}

func certsExportCommand(flags *cli.ClientFlags) *cobra.Command {
	var req certs.ExportRequest
	var out string
	cmd := &cobra.Command{
		Use:   "export SERIAL|ID --out FILE [--format pem|pkcs12]",
		Short: "Export a certificate with its private key (admin; audited)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := flags.Client()
			if err != nil {
				return err
			}
			if req.Format == "pkcs12" && req.Password == "" {
				req.Password = os.Getenv("GAFFER_EXPORT_PASSWORD")
			}
			body, err := postForBytes(cmd, c, certsPath+"/certificates/"+url.PathEscape(args[0])+"/export", req)
			if err != nil {
				return err
			}
			return cli.WriteOut(cmd.OutOrStdout(), out, body, 0o600)
		},
	}
	cmd.Flags().StringVar(&req.Format, "format", "pem", "pem or pkcs12")
	cmd.Flags().StringVar(&req.Password, "password", "", "PKCS #12 password (env GAFFER_EXPORT_PASSWORD)")
	cmd.Flags().StringVar(&out, "out", "", "output file, mode 0600 (default stdout)")
	return cmd
}

func certsBulkCommand(flags *cli.ClientFlags) *cobra.Command {
	var req certs.BulkRequest
	cmd := &cobra.Command{
		Use:       "bulk reissue|revoke --owner O|--team T|--authority A|--domain D|--expiring 30d",
		Short:     "Reissue or revoke every certificate matching a filter, as a job",
		Args:      cobra.ExactArgs(1),
		ValidArgs: []string{"reissue", "revoke"},
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := flags.Client()
			if err != nil {
				return err
			}
			req.Action = args[0]
			var res certs.BulkResponse
			if err := c.Do(cmd.Context(), http.MethodPost, certsPath+"/bulk", req, &res); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "job %d: %s %d certificates (see gaffer jobs or the Jobs page)\n", res.JobID, req.Action, res.Matched)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&req.Reason, "reason", "", "revocation reason")
	f.StringVar(&req.Filter.Owner, "owner", "", "owner")
	f.StringVar(&req.Filter.Team, "team", "", "team")
	f.StringVar(&req.Filter.Authority, "authority", "", "authority")
	f.StringVar(&req.Filter.Domain, "domain", "", "name, or .example.com")
	f.StringVar(&req.Filter.Expiring, "expiring", "", "expiring within, e.g. 30d")
	f.StringVar(&req.Filter.Status, "status", "", "active, revoked, expired, replaced")
	return cmd
}

func certsCACommand(flags *cli.ClientFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "ca", Short: "Authorities: list, create"}
	list := &cobra.Command{Use: "list", Short: "List authorities", Args: cobra.NoArgs}
	out := cli.AddOutputFlag(list)
	list.RunE = func(cmd *cobra.Command, _ []string) error {
		c, err := flags.Client()
		if err != nil {
			return err
		}
		var as []certs.Authority
		if err := c.Do(cmd.Context(), http.MethodGet, certsPath+"/authorities", nil, &as); err != nil {
			return err
		}
		return out.Print(cmd.OutOrStdout(), as, func(t *cli.Table) {
			t.Row("NAME", "KIND", "PARENT", "SUBJECT", "ONLINE", "EXPIRES")
			for _, a := range as {
				exp := ""
				if !a.NotAfter.IsZero() && a.NotAfter.Unix() > 0 {
					exp = a.NotAfter.Format("2006-01-02")
				}
				t.Row(a.Name, a.Kind, a.Parent, a.Subject, a.Online, exp)
			}
		})
	}
	var req certs.CreateAuthorityRequest
	var validity, maxValidity string
	create := &cobra.Command{
		Use: "create NAME --kind root|intermediate [--parent P]", Short: "Create an internal authority (admin)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := flags.Client()
			if err != nil {
				return err
			}
			req.Name = args[0]
			if req.Validity, err = parseCertsDuration(validity); err != nil {
				return err
			}
			if req.Policy.MaxValidity, err = parseCertsDuration(maxValidity); err != nil {
				return err
			}
			var a certs.Authority
			if err := c.Do(cmd.Context(), http.MethodPost, certsPath+"/authorities", req, &a); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "created %s %s: %s, until %s\n", a.Kind, a.Name, a.Subject, a.NotAfter.Format("2006-01-02"))
			return nil
		},
	}
	f := create.Flags()
	f.StringVar(&req.Kind, "kind", "intermediate", "root or intermediate")
	f.StringVar(&req.Parent, "parent", "", "the signing authority of an intermediate")
	f.StringVar(&req.CommonName, "cn", "", "subject common name (default the name)")
	f.StringVar(&req.Organization, "org", "", "subject organization")
	f.StringVar(&req.KeyType, "key-type", certs.KeyECDSAP256, "key type")
	f.StringVar(&validity, "validity", "", "lifetime (default 10 years for a root, 5 for an intermediate)")
	f.StringSliceVar(&req.Policy.AllowedDomains, "allowed-domain", nil, "allowed names: example.com, or .example.com for names under it")
	f.BoolVar(&req.Policy.AllowWildcards, "allow-wildcards", false, "allow wildcard names")
	f.BoolVar(&req.Policy.AllowIPs, "allow-ips", false, "allow IP address SANs")
	f.StringVar(&maxValidity, "max-validity", "", "longest lifetime it issues (default 398d)")
	cmd.AddCommand(list, create)
	return cmd
}

// postForBytes sends a JSON POST and returns the raw answer (an export).
func postForBytes(cmd *cobra.Command, c *cli.Client, path string, body any) ([]byte, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(cmd.Context(), http.MethodPost, c.Server+path, bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("POST %s: %w", path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("POST %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		var env struct {
			Error httpapi.Error `json:"error"`
		}
		if json.Unmarshal(out, &env) == nil && env.Error.Message != "" {
			return nil, fmt.Errorf("POST %s: %s: %s", path, resp.Status, env.Error.Message)
		}
		return nil, fmt.Errorf("POST %s: %s", path, resp.Status)
	}
	return out, nil
}
