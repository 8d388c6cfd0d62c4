package certs

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gaffer-sre/gaffer/internal/platform/cli"
)

// certsKEKCommand is `gaffer certs kek rotate`: POST
// /api/v1/certs/kek/rotate (admin scope).
func certsKEKCommand(flags *cli.ClientFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "kek", Short: "The key-encryption key sealing private keys (rotate needs the admin scope)"}
	rotate := &cobra.Command{
		Use:   "rotate",
		Short: "Rotate the generated key-encryption key and re-seal every private key under it",
		Long: "Rotate writes a new key-encryption key first in <data-dir>/certs.kek, re-seals every private key " +
			"under it and drops the old key. Keys supplied by the operator ($GAFFER_CERTS_KEK, $GAFFER_CERTS_KEK_FILE, " +
			"--kek-command) are refused (kek_not_managed): put the new key first there, the old one after it, and restart.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := flags.Client()
			if err != nil {
				return err
			}
			var res KEKRotateResponse
			if err := c.Do(cmd.Context(), "POST", certsPath+"/kek/rotate", nil, &res); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "key-encryption key %s; re-sealed %d private keys\n", res.KEKID, res.Rewrapped)
			return nil
		},
	}
	cmd.AddCommand(rotate)
	return cmd
}
