package sshca

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gaffer-sre/gaffer/internal/platform/cli"
)

// sshcaKEKCommand is `gaffer sshca kek rotate`: POST
// /api/v1/sshca/kek/rotate (admin scope).
func sshcaKEKCommand(flags *cli.ClientFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "kek", Short: "The key-encryption key sealing the CA private keys (rotate needs the admin scope)"}
	rotate := &cobra.Command{
		Use:   "rotate",
		Short: "Rotate the generated key-encryption key and re-seal every CA private key under it",
		Long: "Rotate writes a new key-encryption key first in <data-dir>/sshca.kek, re-seals every CA private key " +
			"under it and drops the old key. Keys supplied by the operator ($GAFFER_SSHCA_KEK, --sshca-kek-file, " +
			"--kek-command) are refused (kek_not_managed): put the new key first there, the old one after it, and restart.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := flags.Client()
			if err != nil {
				return err
			}
			var res KEKRotateResponse
			if err := c.Do(cmd.Context(), "POST", "/api/v1/sshca/kek/rotate", nil, &res); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "key-encryption key %s; re-sealed %d CA keys\n", res.KEKID, res.Rewrapped)
			return nil
		},
	}
	cmd.AddCommand(rotate)
	return cmd
}
