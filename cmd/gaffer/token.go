package main

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gaffer-sre/gaffer/internal/platform/auth"
	"github.com/gaffer-sre/gaffer/internal/platform/cli"
	"github.com/gaffer-sre/gaffer/internal/platform/console"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
)

func init() { registerCommand(newTokenCommand) }

func newTokenCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "token", Short: "List (the default), create and revoke scoped API tokens (needs the admin scope)"}
	flags := cli.AddClientFlags(cmd)

	var req console.CreateTokenRequest
	var scopes string
	create := &cobra.Command{
		Use:   "create NAME --scopes SCOPE[,SCOPE...]",
		Short: "Create a token; its secret is printed once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := flags.Client()
			if err != nil {
				return err
			}
			req.Name = args[0]
			req.Scopes = strings.Split(scopes, ",")
			var out console.CreateTokenResponse
			if err := c.Do(cmd.Context(), "POST", "/api/v1/tokens", req, &out); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), out.Secret)
			fmt.Fprintf(cmd.ErrOrStderr(), "created token %s with scopes %s; the secret above is shown only once\n",
				cli.Ref{ID: out.Token.ID, Name: out.Token.Name}, strings.Join(out.Token.Scopes, ","))
			return nil
		},
	}
	create.Flags().StringVar(&scopes, "scopes", "", "comma-separated scopes, e.g. events:read,events:write or admin")
	create.Flags().StringVar(&req.Identity, "identity", "", "user or service the token acts as")
	create.Flags().StringVar(&req.TTL, "ttl", "", "lifetime, e.g. 720h (default: no expiry)")
	create.MarkFlagRequired("scopes")

	list := &cobra.Command{
		Use:   "list",
		Short: "List tokens",
		Args:  cobra.NoArgs,
	}
	out := cli.AddOutputFlag(list)
	list.RunE = func(cmd *cobra.Command, args []string) error {
		c, err := flags.Client()
		if err != nil {
			return err
		}
		var page httpapi.Page[auth.Token]
		if err := c.Do(cmd.Context(), "GET", "/api/v1/tokens", nil, &page); err != nil {
			return err
		}
		return out.Print(cmd.OutOrStdout(), page.Items, func(t *cli.Table) {
			t.Row("ID", "NAME", "SCOPES", "IDENTITY", "CREATED", "STATUS")
			for _, tok := range page.Items {
				status := "active"
				if tok.RevokedAt != nil {
					status = "revoked"
				}
				t.Row(tok.ID, tok.Name, strings.Join(tok.Scopes, ","), tok.Identity, tok.CreatedAt.Format("2006-01-02 15:04"), status)
			}
		})
	}

	revoke := &cobra.Command{
		Use:   "revoke NAME|ID",
		Short: "Revoke a token, named by its name, its ID or a unique prefix of its ID",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := flags.Client()
			if err != nil {
				return err
			}
			tok, err := resolveToken(cmd, c, args[0])
			if err != nil {
				return err
			}
			if err := c.Do(cmd.Context(), "DELETE", "/api/v1/tokens/"+url.PathEscape(tok.ID), nil, nil); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "revoked token %s\n", tok)
			return nil
		},
	}
	cmd.AddCommand(create, list, revoke)
	cli.ListByDefault(cmd, list)
	return cmd
}

// resolveToken finds the active token ref names: its ID, its name, or a
// unique prefix of its ID (revoked tokens still list, but cannot be meant).
func resolveToken(cmd *cobra.Command, c *cli.Client, ref string) (cli.Ref, error) {
	var page httpapi.Page[auth.Token]
	if err := c.Do(cmd.Context(), "GET", "/api/v1/tokens", nil, &page); err != nil {
		return cli.Ref{}, err
	}
	var refs []cli.Ref
	for _, tok := range page.Items {
		if tok.RevokedAt == nil {
			refs = append(refs, cli.Ref{ID: tok.ID, Name: tok.Name})
		}
	}
	return cli.Resolve("active token", ref, refs)
}
