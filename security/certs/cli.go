package certs

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gaffer-sre/gaffer/internal/platform/cli"
)

// newCertsCommand returns `gaffer certs`: the certificate verbs here, the
// inventory-wide ones in cli_bulk.go, authorities and their ACME servers in
// cli_ca.go and cli_acme.go.
func newCertsCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "certs", Short: "TLS certificates: list (the default), issue, revoke, rotate, scan (see docs/certs.md)"}
	flags := cli.AddClientFlags(cmd)
	list := certsListCommand(flags)
	cmd.AddCommand(certsIssueCommand(flags), list, certsShowCommand(flags), certsRevokeCommand(flags),
		certsRotateCommand(flags), certsScanCommand(flags), certsImportCommand(flags), certsExportCommand(flags),
		certsBulkCommand(flags), certsCACommand(flags), certsACMECommand(flags), certsKEKCommand(flags))
	cli.ListByDefault(cmd, list)
	return cmd
}

// certsPath is the API prefix.
const certsPath = "/api/v1/certs"

func certsIssueCommand(flags *cli.ClientFlags) *cobra.Command {
	var req IssueRequest
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
			var out Certificate
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
	f.StringVar(&req.KeyType, "key-type", KeyECDSAP256, "key type: "+strings.Join(KeyTypes, ", "))
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

func parseCertsDuration(s string) (Duration, error) {
	d, err := ParseDuration(s)
	return Duration(d), err
}

// localCSR generates a key and a CSR for it; the names travel in the
// request, the CSR proves the key.
func localCSR(keyType, cn string) (keyPEM []byte, csrPEM string, err error) {
	key, err := GenerateKey(keyType)
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
		var all []Certificate
		for {
			var page ListResponse
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
		var x Certificate
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
		Use: "revoke SERIAL|ID --reason R", Short: "Revoke a certificate, named by ID, serial or a unique serial prefix (its CRL and OCSP answer at once)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := flags.Client()
			if err != nil {
				return err
			}
			var x Certificate
			if err := c.Do(cmd.Context(), http.MethodPost, certsPath+"/certificates/"+url.PathEscape(args[0])+"/revoke",
				RevokeRequest{Reason: reason}, &x); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "revoked certificate %s (%s), reason %s\n", x.Serial, x.CommonName, x.RevocationReason)
			return nil
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "unspecified", "key_compromise, superseded, cessation_of_operation, affiliation_changed, ...")
	return cmd
}
