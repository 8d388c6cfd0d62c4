package certs

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/spf13/cobra"

	"github.com/gaffer-sre/gaffer/internal/platform/cli"
)

// certsACMECommand manages the ACME servers of the internal authorities:
// external account binding keys and the anonymous-accounts opt-out.
func certsACMECommand(flags *cli.ClientFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "acme", Short: "ACME server of an authority: EAB keys, anonymous accounts (admin)"}
	eab := &cobra.Command{Use: "eab", Short: "External account binding keys (RFC 8555 7.3.4) for an authority's ACME server"}
	eab.AddCommand(certsEABCreateCommand(flags), certsEABListCommand(flags), certsEABRevokeCommand(flags))
	cmd.AddCommand(eab, certsACMEAnonymousCommand(flags))
	return cmd
}

func eabPath(authority string) string {
	return certsPath + "/authorities/" + url.PathEscape(authority) + "/acme/eab-keys"
}

func certsEABCreateCommand(flags *cli.ClientFlags) *cobra.Command {
	var req CreateEABKeyRequest
	cmd := &cobra.Command{
		Use:   "create AUTHORITY [--note TEXT]",
		Short: "Create an EAB key; its HMAC key is printed once and cannot be shown again",
		Long: "Create an external account binding key for AUTHORITY's ACME server. Give the key ID and HMAC key to\n" +
			"the ACME client (certbot --eab-kid/--eab-hmac-key, lego --eab --kid/--hmac). The key creates one\n" +
			"account; revoking it deactivates that account.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := flags.Client()
			if err != nil {
				return err
			}
			var k NewEABKey
			if err := c.Do(cmd.Context(), http.MethodPost, eabPath(args[0]), req, &k); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "key id:   %s\nhmac key: %s\n", k.ID, k.HMACKey)
			fmt.Fprintf(cmd.ErrOrStderr(), "created EAB key %s for %s; the HMAC key is shown only now. ACME directory: %s/api/v1/certs/acme/%s/directory\n",
				k.ID, args[0], c.Server, args[0])
			return nil
		},
	}
	cmd.Flags().StringVar(&req.Note, "note", "", "whom the key is for")
	return cmd
}

func certsEABListCommand(flags *cli.ClientFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "list AUTHORITY", Short: "List an authority's EAB keys (without secrets)", Args: cobra.ExactArgs(1)}
	out := cli.AddOutputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		c, err := flags.Client()
		if err != nil {
			return err
		}
		var ks []EABKey
		if err := c.Do(cmd.Context(), http.MethodGet, eabPath(args[0]), nil, &ks); err != nil {
			return err
		}
		return out.Print(cmd.OutOrStdout(), ks, func(t *cli.Table) {
			t.Row("ID", "CREATED", "BY", "ACCOUNT", "STATE", "NOTE")
			for _, k := range ks {
				state := "unused"
				switch {
				case k.RevokedAt != nil:
					state = "revoked"
				case k.Account != "":
					state = "used"
				}
				t.Row(k.ID, k.CreatedAt.Format("2006-01-02 15:04"), k.CreatedBy, k.Account, state, k.Note)
			}
		})
	}
	return cmd
}

func certsEABRevokeCommand(flags *cli.ClientFlags) *cobra.Command {
	return &cobra.Command{
		Use: "revoke AUTHORITY KEY-ID", Short: "Revoke an EAB key and deactivate the account it created", Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := flags.Client()
			if err != nil {
				return err
			}
			var k EABKey
			if err := c.Do(cmd.Context(), http.MethodDelete, eabPath(args[0])+"/"+url.PathEscape(args[1]), nil, &k); err != nil {
				return err
			}
			if k.Account != "" {
				fmt.Fprintf(cmd.OutOrStdout(), "revoked EAB key %s; deactivated ACME account %s\n", k.ID, k.Account)
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "revoked EAB key %s (unused)\n", k.ID)
			}
			return nil
		},
	}
}

func certsACMEAnonymousCommand(flags *cli.ClientFlags) *cobra.Command {
	// set shows the setting (mode "") or changes it, and prints it.
	set := func(cmd *cobra.Command, authority, mode string) error {
		c, err := flags.Client()
		if err != nil {
			return err
		}
		path := certsPath + "/authorities/" + url.PathEscape(authority) + "/acme"
		var st ACMEServerSettings
		switch mode {
		case "":
			err = c.Do(cmd.Context(), http.MethodGet, path, nil, &st)
		case "allow", "refuse":
			st.AnonymousAccounts = mode == "allow"
			err = c.Do(cmd.Context(), http.MethodPut, path, st, &st)
		default:
			return fmt.Errorf("%q: want allow or refuse", mode)
		}
		if err != nil {
			return err
		}
		state := map[bool]string{true: "allowed", false: "refused"}[st.AnonymousAccounts]
		if mode == "" {
			fmt.Fprintf(cmd.OutOrStdout(), "anonymous ACME accounts for %s are %s\n", authority, state)
		} else {
			fmt.Fprintf(cmd.OutOrStdout(), "%s anonymous ACME accounts for %s\n", state, authority)
		}
		if !st.AnonymousAccounts {
			fmt.Fprintln(cmd.OutOrStdout(), "external account binding is required: create keys with `gaffer certs acme eab create`")
		}
		return nil
	}
	cmd := &cobra.Command{
		Use:   "anonymous-accounts AUTHORITY",
		Short: "Show whether an authority's ACME server takes accounts without external account binding (subcommands: allow, refuse)",
		// RangeArgs keeps the older spelling `anonymous-accounts AUTHORITY allow|refuse` working.
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			mode := ""
			if len(args) == 2 {
				mode = args[1]
			}
			return set(cmd, args[0], mode)
		},
	}
	for _, mode := range []string{"allow", "refuse"} {
		short := "Allow ACME accounts without external account binding (for labs)"
		if mode == "refuse" {
			short = "Refuse ACME accounts without external account binding (the default)"
		}
		cmd.AddCommand(&cobra.Command{Use: mode + " AUTHORITY", Short: short, Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error { return set(cmd, args[0], mode) }})
	}
	return cmd
}
