package sshca

import (
	"github.com/spf13/cobra"

	"github.com/gaffer-sre/gaffer/internal/platform/cli"
)

// sshcaKEKCommand is `gaffer sshca kek rotate`: POST
// /api/v1/sshca/kek/rotate (admin scope).
func sshcaKEKCommand(flags *cli.ClientFlags) *cobra.Command {
	return cli.KEKCommand{
		Short:       "The key-encryption key sealing the CA private keys (rotate needs the admin scope)",
		RotateShort: "Rotate the generated key-encryption key and re-seal every CA private key under it",
		RotateLong: "Rotate writes a new key-encryption key first in <data-dir>/sshca.kek, re-seals every CA private key " +
			"under it and drops the old key. Keys supplied by the operator ($GAFFER_SSHCA_KEK, --sshca-kek-file, " +
			"--kek-command) are refused (kek_not_managed): put the new key first there, the old one after it, and restart.",
		Path: "/api/v1/sshca/kek/rotate",
		Keys: "CA keys",
	}.Command(flags)
}
