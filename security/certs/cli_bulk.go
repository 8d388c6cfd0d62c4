package certs

import (
	"bytes"
	"encoding/json"
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
)

// certsRotateCommand reissues and redeploys certificates now.
func certsRotateCommand(flags *cli.ClientFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rotate [SERIAL|ID...]",
		Short: "Reissue and redeploy certificates now; with none named, every one due for automatic rotation",
		Args:  cobra.ArbitraryArgs,
	}
	out := cli.AddOutputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		c, err := flags.Client()
		if err != nil {
			return err
		}
		var res RotateResponse
		if err := c.Do(cmd.Context(), http.MethodPost, certsPath+"/rotate", RotateRequest{Certificates: args}, &res); err != nil {
			return err
		}
		if !out.JSON() {
			fmt.Fprintf(cmd.OutOrStdout(), "rotated %s; enqueued %d\n", cli.Plural(len(res.Rotated), "certificate", ""), len(res.Enqueued))
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
	var req ScanAPIRequest
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
		req.Targets, req.Timeout = args, Duration(timeout)
		var res ScanResponse
		if err := c.Do(cmd.Context(), http.MethodPost, certsPath+"/scans", req, &res); err != nil {
			return err
		}
		if !out.JSON() {
			found := 0
			for _, r := range res.Results {
				if r.New {
					found++
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "scanned %s; added %s to the inventory\n", cli.Plural(len(res.Results), "endpoint", ""), cli.Plural(found, "new certificate", ""))
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
	f.DurationVar(&timeout, "handshake-timeout", DefaultScanTimeout, "time each TLS handshake may take")
	f.StringVar(&req.Owner, "owner", "", "owner of newly discovered certificates")
	return cmd
}

func certsImportCommand(flags *cli.ClientFlags) *cobra.Command {
	var req ImportRequest
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
			var res ImportResponse
			if err := c.Do(cmd.Context(), http.MethodPost, certsPath+"/import", req, &res); err != nil {
				return err
			}
			for _, x := range res.Imported {
				fmt.Fprintf(cmd.OutOrStdout(), "imported certificate %s (%s), id %d\n", x.Serial, x.CommonName, x.ID)
			}
			for _, s := range res.Existing {
				fmt.Fprintf(cmd.OutOrStdout(), "skipped certificate %s: already known\n", s)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&req.Owner, "owner", "", "owner")
	cmd.Flags().StringVar(&req.Team, "team", "", "team")
	return cmd
}

func certsExportCommand(flags *cli.ClientFlags) *cobra.Command {
	var req ExportRequest
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
	var req BulkRequest
	cmd := &cobra.Command{
		Use:   "bulk",
		Short: "Reissue or revoke every certificate matching a filter, as a job (subcommands: reissue, revoke)",
	}
	for _, action := range []string{"reissue", "revoke"} {
		cmd.AddCommand(&cobra.Command{
			Use:   action + " --owner O|--team T|--authority A|--domain D|--expiring 30d",
			Short: strings.ToUpper(action[:1]) + action[1:] + " every certificate matching a filter, as a job",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, args []string) error {
				c, err := flags.Client()
				if err != nil {
					return err
				}
				req.Action = action
				var res BulkResponse
				if err := c.Do(cmd.Context(), http.MethodPost, certsPath+"/bulk", req, &res); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "started job %d to %s %s (see the Jobs page)\n", res.JobID, action, cli.Plural(res.Matched, "certificate", ""))
				return nil
			},
		})
	}
	f := cmd.PersistentFlags()
	f.StringVar(&req.Reason, "reason", "", "revocation reason")
	f.StringVar(&req.Filter.Owner, "owner", "", "owner")
	f.StringVar(&req.Filter.Team, "team", "", "team")
	f.StringVar(&req.Filter.Authority, "authority", "", "authority")
	f.StringVar(&req.Filter.Domain, "domain", "", "name, or .example.com")
	f.StringVar(&req.Filter.Expiring, "expiring", "", "expiring within, e.g. 30d")
	f.StringVar(&req.Filter.Status, "status", "", "active, revoked, expired, replaced")
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
		code, msg := cli.ErrorMessage(out)
		return nil, &cli.APIError{Status: resp.StatusCode, Code: code, Message: msg}
	}
	return out, nil
}
