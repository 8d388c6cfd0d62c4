package sshca

import (
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gaffer-sre/gaffer/internal/platform/cli"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
)

func sshcaCACommand(flags *cli.ClientFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "ca", Short: "List (the default), create and rotate CAs (create, rotate and retire need the admin scope)"}
	list := &cobra.Command{Use: "list", Short: "List CAs and their keys", Args: cobra.NoArgs}
	output := cli.AddOutputFlag(list)
	list.RunE = func(cmd *cobra.Command, args []string) error {
		c, err := flags.Client()
		if err != nil {
			return err
		}
		var page httpapi.Page[CA]
		if err := c.Do(cmd.Context(), "GET", "/api/v1/sshca/cas", nil, &page); err != nil {
			return err
		}
		return output.Print(cmd.OutOrStdout(), page.Items, func(t *cli.Table) {
			t.Row("CA", "TYPE", "KEY", "ALGORITHM", "STATE", "FINGERPRINT")
			for _, ca := range page.Items {
				for _, k := range ca.Keys {
					t.Row(ca.Name, ca.CertType, k.ID, k.Algorithm, k.State, k.Fingerprint)
				}
			}
		})
	}
	var req CreateCARequest
	create := &cobra.Command{
		Use:   "create NAME --type user|host",
		Short: "Create a CA with a new key",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req.Name = args[0]
			return sshcaCAPost(cmd, flags, "created", "/api/v1/sshca/cas", req)
		},
	}
	create.Flags().StringVar(&req.CertType, "type", UserCert, "user or host")
	create.Flags().StringVar(&req.Algorithm, "algorithm", AlgEd25519, "key algorithm: "+strings.Join(Algorithms, ", "))
	create.Flags().StringVar(&req.Description, "description", "", "what the CA is for")
	var rot RotateRequest
	rotate := &cobra.Command{
		Use:   "rotate NAME",
		Short: "Add a new signing key; the old one stays trusted until retired",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return sshcaCAPost(cmd, flags, "rotated", "/api/v1/sshca/cas/"+url.PathEscape(args[0])+"/rotate", rot)
		},
	}
	rotate.Flags().StringVar(&rot.Algorithm, "algorithm", "", "algorithm of the new key (default: the current key's)")
	retire := &cobra.Command{
		Use:   "retire NAME KEY-ID",
		Short: "Stop trusting an old CA key (update TrustedUserCAKeys afterwards)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return sshcaCAPost(cmd, flags, "retired a key of", "/api/v1/sshca/cas/"+url.PathEscape(args[0])+"/keys/"+url.PathEscape(args[1])+"/retire", nil)
		},
	}
	cmd.AddCommand(list, create, rotate, retire)
	cli.ListByDefault(cmd, list)
	return cmd
}

// sshcaCAPost posts body to path, confirms what it did (done) to the CA in
// one line, then lists the CA's keys.
func sshcaCAPost(cmd *cobra.Command, flags *cli.ClientFlags, done, path string, body any) error {
	c, err := flags.Client()
	if err != nil {
		return err
	}
	var ca CA
	if err := c.Do(cmd.Context(), "POST", path, body, &ca); err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%s CA %s; its keys:\n", done, ca.Name)
	for _, k := range ca.Keys {
		fmt.Fprintf(cmd.OutOrStdout(), "%s\t%s\t%s\t%s\n", ca.Name, k.ID, k.State, k.Fingerprint)
	}
	return nil
}

func sshcaPolicyCommand(flags *cli.ClientFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "policy", Short: "List (the default), show, set and delete signing policies"}
	list := &cobra.Command{Use: "list", Short: "List policies", Args: cobra.NoArgs}
	output := cli.AddOutputFlag(list)
	list.RunE = func(cmd *cobra.Command, args []string) error {
		c, err := flags.Client()
		if err != nil {
			return err
		}
		var page httpapi.Page[Policy]
		if err := c.Do(cmd.Context(), "GET", "/api/v1/sshca/policies", nil, &page); err != nil {
			return err
		}
		return output.Print(cmd.OutOrStdout(), page.Items, func(t *cli.Table) {
			t.Row("NAME", "TYPE", "CA", "IDENTITIES", "GROUPS", "PRINCIPALS", "MAX VALIDITY")
			for _, p := range page.Items {
				t.Row(p.Name, p.CertType, p.CA, strings.Join(p.Identities, ","), strings.Join(p.Groups, ","),
					strings.Join(p.Principals, ","), p.MaxValidity)
			}
		})
	}
	get := &cobra.Command{
		Use: "get NAME", Short: "Print a policy as JSON", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := flags.Client()
			if err != nil {
				return err
			}
			var p Policy
			if err := c.Do(cmd.Context(), "GET", "/api/v1/sshca/policies/"+url.PathEscape(args[0]), nil, &p); err != nil {
				return err
			}
			return (&cli.OutputFlag{Format: "json"}).Print(cmd.OutOrStdout(), p, nil)
		},
	}
	var file string
	set := &cobra.Command{
		Use: "set NAME --file policy.json", Short: "Create or replace a policy from a JSON file (- for stdin)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var b []byte
			var err error
			if file == "-" {
				b, err = io.ReadAll(cmd.InOrStdin())
			} else {
				b, err = os.ReadFile(file)
			}
			if err != nil {
				return fmt.Errorf("file: %w", err)
			}
			c, err := flags.Client()
			if err != nil {
				return err
			}
			var p Policy
			if err := c.DoRaw(cmd.Context(), "PUT", "/api/v1/sshca/policies/"+url.PathEscape(args[0]), "application/json", b, &p); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "set policy %s\n", args[0])
			return nil
		},
	}
	set.Flags().StringVarP(&file, "file", "f", "", "JSON policy file, - for stdin")
	set.MarkFlagRequired("file")
	del := &cobra.Command{
		Use: "delete NAME", Short: "Delete a policy", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := flags.Client()
			if err != nil {
				return err
			}
			if err := c.Do(cmd.Context(), "DELETE", "/api/v1/sshca/policies/"+url.PathEscape(args[0]), nil, nil); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "deleted policy %s\n", args[0])
			return nil
		},
	}
	cmd.AddCommand(list, get, set, del)
	cli.ListByDefault(cmd, list)
	return cmd
}
