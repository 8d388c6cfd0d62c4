// Package seal seals secrets at rest (the SSH CA's and the certificate
// manager's private keys) under key-encryption keys: a named Keyring of
// AES-256-GCM keys from the operator (a variable, a key file, a command
// printing them from a KMS or vault) or generated in the data directory,
// blobs that name the key that sealed them, rotation, and re-sealing of
// stored blobs under the current key. See docs/security.md.
package seal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// CommandTimeout bounds a run of the key command.
const CommandTimeout = 30 * time.Second

// maxOutput bounds what the key command may print.
const maxOutput = 64 << 10

// KeyNameEnv is set, in the key command's environment, to the name of
// the key asked for ("certs" or "sshca"); the name is also its first
// argument ($1).
const KeyNameEnv = "GAFFER_KEK_NAME"

// RunCommand runs command (--kek-command) with /bin/sh, passing the key's
// name in $GAFFER_KEK_NAME (and as $1 of the command line itself, not of
// a script it calls), and returns what it printed on
// standard output: the key text, in the format the system reads from a
// key file. The command must exit 0 within CommandTimeout and print at
// most 64 KB; its standard error is quoted, shortened, in the error.
func RunCommand(ctx context.Context, command, name string) (string, error) {
	if strings.TrimSpace(command) == "" {
		return "", errors.New("kek-command: empty")
	}
	ctx, cancel := context.WithTimeout(ctx, CommandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", command, "gaffer-kek", name)
	cmd.Env = append(os.Environ(), KeyNameEnv+"="+name)
	var stdout, stderr limitedBuffer
	stdout.max, stderr.max = maxOutput, 512
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	switch {
	case ctx.Err() == context.DeadlineExceeded:
		return "", fmt.Errorf("kek-command for the %s key: did not finish within %s", name, CommandTimeout)
	case err != nil:
		return "", fmt.Errorf("kek-command for the %s key: %w%s", name, err, quote(stderr.String()))
	case stdout.over:
		return "", fmt.Errorf("kek-command for the %s key: printed more than %d bytes", name, maxOutput)
	case strings.TrimSpace(stdout.String()) == "":
		return "", fmt.Errorf("kek-command for the %s key: printed nothing%s", name, quote(stderr.String()))
	}
	return stdout.String(), nil
}

func quote(stderr string) string {
	if s := strings.TrimSpace(stderr); s != "" {
		return fmt.Sprintf(" (stderr: %q)", s)
	}
	return ""
}

// limitedBuffer keeps the first max bytes written to it and notes that
// more came. (It does not embed bytes.Buffer: io.Copy would use the
// buffer's ReadFrom and write past the limit.)
type limitedBuffer struct {
	buf  bytes.Buffer
	max  int
	over bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.buf.Len(); len(p) > room {
		b.over = true
		if room > 0 {
			b.buf.Write(p[:room])
		}
		return len(p), nil
	}
	return b.buf.Write(p)
}

func (b *limitedBuffer) String() string { return b.buf.String() }
