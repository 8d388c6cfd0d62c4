package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// KEKCommand describes a system's `kek` command: the system seals keys at
// rest under a seal.Keyring and rotates it at Path (POST, admin scope).
type KEKCommand struct {
	// Short is the kek command's one-line help; RotateShort and RotateLong
	// are rotate's.
	Short, RotateShort, RotateLong string
	// Path is the rotation endpoint, e.g. /api/v1/sshca/kek/rotate.
	Path string
	// Keys names what is re-sealed in the output ("CA keys").
	Keys string
}

// Command returns `kek rotate`, which calls k.Path and prints the new key's
// ID and how many keys were re-sealed.
func (k KEKCommand) Command(flags *ClientFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "kek", Short: k.Short}
	cmd.AddCommand(&cobra.Command{
		Use:   "rotate",
		Short: k.RotateShort,
		Long:  k.RotateLong,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := flags.Client()
			if err != nil {
				return err
			}
			var res struct {
				KEKID     string `json:"kek_id"`
				Rewrapped int    `json:"rewrapped"`
			}
			if err := c.Do(cmd.Context(), "POST", k.Path, nil, &res); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "rotated the key-encryption key to %s; re-sealed %s\n", res.KEKID, Plural(res.Rewrapped, strings.TrimSuffix(k.Keys, "s"), k.Keys))
			return nil
		},
	})
	return cmd
}
