package certs

import (
	"fmt"
	"net/http"

	"github.com/spf13/cobra"

	"github.com/gaffer-sre/gaffer/internal/platform/cli"
)

// certsCACommand lists and creates internal authorities.
func certsCACommand(flags *cli.ClientFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "ca", Short: "Authorities: list (the default), create"}
	list := &cobra.Command{Use: "list", Short: "List authorities", Args: cobra.NoArgs}
	out := cli.AddOutputFlag(list)
	list.RunE = func(cmd *cobra.Command, _ []string) error {
		c, err := flags.Client()
		if err != nil {
			return err
		}
		var as []Authority
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
	var req CreateAuthorityRequest
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
			var a Authority
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
	f.StringVar(&req.KeyType, "key-type", KeyECDSAP256, "key type")
	f.StringVar(&validity, "validity", "", "lifetime (default 10 years for a root, 5 for an intermediate)")
	f.StringSliceVar(&req.Policy.AllowedDomains, "allowed-domain", nil, "allowed names: example.com, or .example.com for names under it")
	f.BoolVar(&req.Policy.AllowWildcards, "allow-wildcards", false, "allow wildcard names")
	f.BoolVar(&req.Policy.AllowIPs, "allow-ips", false, "allow IP address SANs")
	f.StringVar(&maxValidity, "max-validity", "", "longest lifetime it issues (default 398d)")
	cmd.AddCommand(list, create)
	cli.ListByDefault(cmd, list)
	return cmd
}
