package sshca

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gaffer-sre/gaffer/internal/platform/cli"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
)

// newSSHCACommand is `gaffer sshca`, the SSH CA's client; the module
// registers it, and `gaffer ssh`, through its Commands.
func newSSHCACommand() *cobra.Command {
	cmd := &cobra.Command{Use: "sshca", Short: "The SSH certificate authority: trust, sign, revoke (see docs/sshca.md)"}
	flags := cli.AddClientFlags(cmd)
	cmd.AddCommand(sshcaPubkeyCommand(flags), sshcaSignCommand(flags), sshcaRevokeCommand(flags),
		sshcaKRLCommand(flags), sshcaCertsCommand(flags), sshcaCACommand(flags), sshcaPolicyCommand(flags),
		sshcaKEKCommand(flags))
	return cmd
}

// publicClient is a client for the CA's public endpoints, which need no
// token.
func publicClient(flags *cli.ClientFlags) (*cli.Client, error) {
	if c, err := flags.Client(); err == nil {
		return c, nil
	}
	return flags.PublicClient()
}

// getRaw fetches a public endpoint's body.
func getRaw(ctx context.Context, c *cli.Client, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.Server+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		code, msg := cli.ErrorMessage(body)
		return nil, &cli.APIError{Status: resp.StatusCode, Code: code, Message: msg}
	}
	return body, nil
}

func sshcaPubkeyCommand(flags *cli.ClientFlags) *cobra.Command {
	var certType, ca, hosts string
	cmd := &cobra.Command{
		Use:   "ca-pubkey --type user|host",
		Short: "Print the CA public keys servers trust (TrustedUserCAKeys) or clients trust (@cert-authority lines)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if certType != UserCert && certType != HostCert {
				return fmt.Errorf("type: %q is not user or host", certType)
			}
			c, err := publicClient(flags)
			if err != nil {
				return err
			}
			q := url.Values{"type": {certType}, "format": {"text"}}
			if ca != "" {
				q.Set("ca", ca)
			}
			if hosts != "" {
				q.Set("hosts", hosts)
			}
			body, err := getRaw(cmd.Context(), c, "/api/v1/sshca/ca-pubkey?"+q.Encode())
			if err != nil {
				return err
			}
			if len(body) == 0 {
				return fmt.Errorf("no %s CA keys: create a CA with `gaffer sshca ca create`", certType)
			}
			_, err = cmd.OutOrStdout().Write(body)
			return err
		},
	}
	cmd.Flags().StringVar(&certType, "type", UserCert, "user or host")
	cmd.Flags().StringVar(&ca, "ca", "", "one CA by name (default: every CA of the type)")
	cmd.Flags().StringVar(&hosts, "hosts", "", "host pattern for the @cert-authority lines, e.g. '*.example.com' (default *)")
	return cmd
}

func sshcaSignCommand(flags *cli.ClientFlags) *cobra.Command {
	var req SignRequest
	var pubkey, out, idTokenFile string
	cmd := &cobra.Command{
		Use:   "sign --pubkey FILE --principal NAME",
		Short: "Have the CA sign a public key; prints (or writes) the certificate",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := os.ReadFile(pubkey)
			if err != nil {
				return fmt.Errorf("pubkey: %w", err)
			}
			req.PublicKey = strings.TrimSpace(string(b))
			if idTokenFile != "" {
				tok, err := os.ReadFile(idTokenFile)
				if err != nil {
					return fmt.Errorf("id-token-file: %w", err)
				}
				req.IDToken = strings.TrimSpace(string(tok))
			}
			c, err := flags.Client()
			if err != nil {
				return err
			}
			var cert Cert
			if err := c.Do(cmd.Context(), "POST", "/api/v1/sshca/sign", req, &cert); err != nil {
				return err
			}
			if err := cli.WriteOut(cmd.OutOrStdout(), out, []byte(cert.Certificate+"\n"), 0o644); err != nil {
				return fmt.Errorf("out: %w", err)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "signed serial %d for %s, valid until %s (policy %s)\n",
				cert.Serial, strings.Join(cert.Principals, ","), cert.ValidBefore.Local().Format(time.DateTime), cert.Policy)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&pubkey, "pubkey", "", "public key file to certify, e.g. ~/.ssh/id_ed25519.pub")
	f.StringSliceVar(&req.Principals, "principal", nil, "principal (user or host name); repeat or comma-separate (default: the policy's, i.e. your identity)")
	f.StringVar(&req.Validity, "validity", "", "how long the certificate lasts, e.g. 5m (default: the policy's)")
	f.StringSliceVar(&req.SourceAddresses, "source-address", nil, "CIDR the certificate may be used from; repeatable")
	f.StringVar(&req.ForceCommand, "force-command", "", "command forced on every session")
	f.StringVar(&req.CertType, "type", UserCert, "user or host")
	f.StringSliceVar(&req.Extensions, "extension", nil, "extensions wanted (default: all the policy grants)")
	f.StringVar(&req.CA, "ca", "", "CA to sign with (default: the policy's)")
	f.StringVar(&idTokenFile, "id-token-file", "", "file with an OIDC ID token proving your identity")
	f.StringVar(&out, "out", "", "write the certificate here (e.g. ~/.ssh/id_ed25519-cert.pub) instead of stdout")
	cmd.MarkFlagRequired("pubkey")
	return cmd
}

func sshcaRevokeCommand(flags *cli.ClientFlags) *cobra.Command {
	var req RevokeRequest
	var pubkey string
	cmd := &cobra.Command{
		Use:   "revoke (SERIAL | --key-id ID | --pubkey FILE)",
		Short: "Revoke a certificate by serial (or a unique prefix of a recent one) or key ID, or a public key and its certificates",
		Example: `  gaffer sshca revoke 4711 --reason "laptop lost"
  gaffer sshca revoke --key-id alice@laptop`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 && req.Serial != "" {
				return fmt.Errorf("serial: given both as an argument (%s) and as --serial (%s)", args[0], req.Serial)
			}
			if pubkey != "" {
				b, err := os.ReadFile(pubkey)
				if err != nil {
					return fmt.Errorf("pubkey: %w", err)
				}
				req.PublicKey = strings.TrimSpace(string(b))
			}
			c, err := flags.Client()
			if err != nil {
				return err
			}
			if len(args) == 1 {
				// A serial, or a unique prefix of a recent one.
				ref, err := cli.ResolveRecent(cmd.Context(), c, "certificate serial", args[0], "/api/v1/sshca/certs?limit=1000",
					func(x Cert) cli.Ref { return cli.Ref{ID: strconv.FormatUint(x.Serial, 10)} })
				if err != nil {
					return err
				}
				req.Serial = ref.ID
			}
			var rev Revocation
			if err := c.Do(cmd.Context(), "POST", "/api/v1/sshca/revocations", req, &rev); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "revoked %s (revocation %d); fetch the new KRL with `gaffer sshca krl --out FILE`\n", revokedWhat(rev), rev.ID)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&req.Serial, "serial", "", "serial of a certificate Gaffer issued (the argument SERIAL does the same)")
	f.StringVar(&req.KeyID, "key-id", "", "key ID of the certificates to revoke")
	f.StringVar(&pubkey, "pubkey", "", "file with a public key (revokes it and its certificates) or a certificate")
	f.StringVar(&req.CA, "ca", "", "limit a key-ID revocation to one CA")
	f.StringVar(&req.Reason, "reason", "", "why, for the record")
	return cmd
}

// revokedWhat names what a revocation covers, for its confirmation line.
func revokedWhat(rev Revocation) string {
	switch {
	case rev.Serial != 0:
		return fmt.Sprintf("certificate serial %d", rev.Serial)
	case rev.KeyID != "":
		return fmt.Sprintf("certificates with key ID %q", rev.KeyID)
	case rev.Fingerprint != "":
		return "public key " + rev.Fingerprint
	}
	return rev.Kind
}

func sshcaKRLCommand(flags *cli.ClientFlags) *cobra.Command {
	var out string
	var plain bool
	cmd := &cobra.Command{
		Use:   "krl --out FILE",
		Short: "Print the key revocation list for sshd's RevokedKeys to --out (or --plain: the text revoked-keys file)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := publicClient(flags)
			if err != nil {
				return err
			}
			path := "/api/v1/sshca/krl"
			if plain {
				path = "/api/v1/sshca/revoked-keys"
			}
			body, err := getRaw(cmd.Context(), c, path)
			if err != nil {
				return err
			}
			if out == "" && !plain {
				return errors.New("out: required for the binary KRL (use --out - to write it to stdout)")
			}
			return cli.WriteOut(cmd.OutOrStdout(), out, body, 0o644)
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "file to write (sshd's RevokedKeys); - for stdout")
	cmd.Flags().BoolVar(&plain, "plain", false, "the plain revoked-keys file instead of the KRL")
	return cmd
}

func sshcaCertsCommand(flags *cli.ClientFlags) *cobra.Command {
	var query, status, identity string
	var limit int
	cmd := &cobra.Command{Use: "certs", Short: "List issued certificates, newest first", Args: cobra.NoArgs}
	output := cli.AddOutputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		c, err := flags.Client()
		if err != nil {
			return err
		}
		q := url.Values{"limit": {fmt.Sprint(limit)}}
		for k, v := range map[string]string{"q": query, "status": status, "identity": identity} {
			if v != "" {
				q.Set(k, v)
			}
		}
		var page httpapi.Page[Cert]
		if err := c.Do(cmd.Context(), "GET", "/api/v1/sshca/certs?"+q.Encode(), nil, &page); err != nil {
			return err
		}
		return output.Print(cmd.OutOrStdout(), page.Items, func(t *cli.Table) {
			t.Row("SERIAL", "IDENTITY", "TYPE", "PRINCIPALS", "ISSUED", "VALID UNTIL", "STATUS")
			for _, c := range page.Items {
				t.Row(c.Serial, c.Identity, c.CertType, strings.Join(c.Principals, ","), c.IssuedAt.Local().Format(time.DateTime),
					c.ValidBefore.Local().Format(time.DateTime), c.Status)
			}
		})
	}
	f := cmd.Flags()
	f.StringVarP(&query, "query", "q", "", "substring of identity, principal, key ID or fingerprint; or a serial")
	f.StringVar(&status, "status", "", "valid, expired or revoked")
	f.StringVar(&identity, "identity", "", "only this identity's certificates")
	f.IntVar(&limit, "limit", 100, "at most this many")
	return cmd
}
