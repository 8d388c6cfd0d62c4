package main

import (
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gaffer-sre/gaffer/internal/platform/tlsca"
)

func init() { registerCommand(newTLSCommand) }

func newTLSCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "tls", Short: "TLS of `gaffer serve --tls`: fetch the CA certificate clients pin"}
	cmd.AddCommand(tlsFetchCACommand())
	return cmd
}

// tlsFetchCACommand fetches the bootstrap bundle and keeps it only if its
// fingerprint is the one the operator read in the serve log, and the
// server it came from presents a certificate from it.
func tlsFetchCACommand() *cobra.Command {
	var server, fingerprint, out string
	cmd := &cobra.Command{Use: "fetch-ca --server https://HOST:PORT --fingerprint sha256:HEX [--out ca.pem]",
		Short: "Fetch the server's CA certificate, check its SHA-256 fingerprint, and write it for --ca-file",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			want := strings.ToLower(strings.TrimSpace(fingerprint))
			if !strings.HasPrefix(want, "sha256:") || len(want) != len("sha256:")+64 {
				return fmt.Errorf("fingerprint: %q is not sha256: and 64 hex digits (the ca_fingerprint in the serve log)", fingerprint)
			}
			if !strings.HasPrefix(server, "https://") {
				return fmt.Errorf("server: %q must be an https:// URL", server)
			}
			pemData, err := fetchCA(strings.TrimRight(server, "/"), want)
			if err != nil {
				return err
			}
			if err := os.WriteFile(out, pemData, 0o644); err != nil {
				return fmt.Errorf("out: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s (%s); pass it with --ca-file or GAFFER_CA_FILE\n", out, want)
			return nil
		}}
	f := cmd.Flags()
	f.StringVar(&server, "server", "", "the server's https:// URL")
	f.StringVar(&fingerprint, "fingerprint", "", "the CA's fingerprint, sha256:HEX, as the serve log prints it (ca_fingerprint)")
	f.StringVar(&out, "out", "ca.pem", "file to write the CA certificate to")
	return cmd
}

// fetchCA gets GET /api/v1/tls/ca without trusting the connection yet,
// then checks what came: the certificate's fingerprint must be want, and
// the certificate the server presented must chain to it.
func fetchCA(server, want string) ([]byte, error) {
	var peer []*x509.Certificate
	tr := &http.Transport{TLSClientConfig: &tls.Config{MinVersion: tls.VersionTLS12,
		InsecureSkipVerify: true, // verified below, against the fingerprint
		VerifyConnection: func(cs tls.ConnectionState) error {
			peer = cs.PeerCertificates
			return nil
		}}}
	hc := &http.Client{Timeout: 30 * time.Second, Transport: tr}
	resp, err := hc.Get(server + "/api/v1/tls/ca")
	if err != nil {
		return nil, fmt.Errorf("fetch the CA: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return nil, fmt.Errorf("fetch the CA: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch the CA: %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	certs, err := tlsca.ParseCertificates(body)
	if err != nil {
		return nil, fmt.Errorf("fetch the CA: the answer: %w", err)
	}
	got := tlsca.Fingerprint(certs[0])
	if subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return nil, fmt.Errorf("the server's CA has fingerprint %s, not %s: not written (check the serve log; "+
			"someone may be between you and the server)", got, want)
	}
	if len(peer) == 0 {
		return nil, fmt.Errorf("fetch the CA: the server presented no certificate")
	}
	roots := x509.NewCertPool()
	roots.AddCert(certs[0])
	inter := x509.NewCertPool()
	for _, c := range peer[1:] {
		inter.AddCert(c)
	}
	if _, err := peer[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter}); err != nil {
		return nil, fmt.Errorf("the server's certificate is not from the CA it serves: %w", err)
	}
	return body, nil
}
