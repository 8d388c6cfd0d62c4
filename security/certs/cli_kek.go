package certs

import (
	"github.com/spf13/cobra"

	"github.com/gaffer-sre/gaffer/internal/platform/cli"
)

// certsKEKCommand is `gaffer certs kek rotate`: POST
// /api/v1/certs/kek/rotate (admin scope).
func certsKEKCommand(flags *cli.ClientFlags) *cobra.Command {
	return cli.KEKCommand{
		Short:       "The key-encryption key sealing private keys (rotate needs the admin scope)",
		RotateShort: "Rotate the generated key-encryption key and re-seal every private key under it",
		RotateLong: "Rotate writes a new key-encryption key first in <data-dir>/certs.kek, re-seals every private key " +
			"under it and drops the old key. Keys supplied by the operator ($GAFFER_CERTS_KEK, $GAFFER_CERTS_KEK_FILE, " +
			"--kek-command) are refused (kek_not_managed): put the new key first there, the old one after it, and restart.",
		Path: certsPath + "/kek/rotate",
		Keys: "private keys",
	}.Command(flags)
}
