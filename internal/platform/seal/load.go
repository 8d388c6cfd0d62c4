package seal

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Options say where a keyring's keys come from; Load takes the first of
// Key, File and Command that is set, else the generated file.
type Options struct {
	// Name is the keyring's name ("certs", "sshca"); the generated file is
	// <DataDir>/<Name>.kek and a command gets it in $GAFFER_KEK_NAME.
	Name string
	// Key is the current key itself (base64 or hex), from the environment.
	Key string
	// KeyOrigin names where Key came from, e.g. "$GAFFER_CERTS_KEK".
	KeyOrigin string
	// Previous are earlier keys, still needed to open what they sealed.
	Previous []string
	// File names a key file: one key a line, the current first; blank
	// lines and lines starting with # are skipped.
	File string
	// FileOrigin names where File came from, e.g. "--sshca-kek-file".
	FileOrigin string
	// Command is --kek-command: it prints the keys in the key file's format.
	Command string
	// DataDir holds the generated key file when nothing else is set.
	DataDir string
}

// FileName is the generated key file's name in the data directory.
func FileName(name string) string { return name + ".kek" }

// Load finds a keyring's keys: Key (with Previous), else File, else what
// Command prints (see RunCommand), else <DataDir>/<Name>.kek, which is
// generated with one key (mode 0600) when missing and which Rotate may
// rewrite. generated reports that last case, so that the caller can warn
// that production should keep the keys elsewhere.
func Load(ctx context.Context, o Options) (kr *Keyring, generated bool, err error) {
	if !validName.MatchString(o.Name) {
		return nil, false, fmt.Errorf("seal: keyring name %q: want lower-case letters, digits and dashes", o.Name)
	}
	switch {
	case o.Key != "":
		kr, err := parseKeys(o.Name, o.KeyOrigin, append([]string{o.Key}, o.Previous...))
		return kr, false, err
	case o.File != "":
		b, err := os.ReadFile(o.File)
		if err != nil {
			return nil, false, fmt.Errorf("seal: read the %s key-encryption keys (%s): %w", o.Name, o.FileOrigin, err)
		}
		kr, err := parseKeys(o.Name, o.File, strings.Split(string(b), "\n"))
		return kr, false, err
	case o.Command != "":
		out, err := RunCommand(ctx, o.Command, o.Name)
		if err != nil {
			return nil, false, fmt.Errorf("seal: %w", err)
		}
		kr, err := parseKeys(o.Name, "--kek-command", strings.Split(out, "\n"))
		return kr, false, err
	}
	return loadGenerated(o.Name, o.DataDir)
}

// loadGenerated reads, or creates, <dataDir>/<name>.kek.
func loadGenerated(name, dataDir string) (*Keyring, bool, error) {
	path := filepath.Join(dataDir, FileName(name))
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		kr, err := parseKeys(name, path, strings.Split(string(b), "\n"))
		if err != nil {
			return nil, false, err
		}
		kr.managed = path
		return kr, false, nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, false, fmt.Errorf("seal: read the %s key-encryption keys: %w", name, err)
	}
	raw := make([]byte, KeySize)
	if _, err := rand.Read(raw); err != nil {
		return nil, false, fmt.Errorf("seal: generate a %s key-encryption key: %w", name, err)
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, false, fmt.Errorf("seal: generate a %s key-encryption key: %w", name, err)
	}
	if err := writeKeyFile(path, [][]byte{raw}, true); err != nil {
		if errors.Is(err, fs.ErrExist) { // another process was first
			return loadGenerated(name, dataDir)
		}
		return nil, false, fmt.Errorf("seal: generate a %s key-encryption key: %w", name, err)
	}
	kr, err := New(name, path, raw)
	if err != nil {
		return nil, false, err
	}
	kr.managed = path
	return kr, true, nil
}

// parseKeys decodes keys written one a line, skipping blank lines and
// comments; the error names the source and the line.
func parseKeys(name, source string, lines []string) (*Keyring, error) {
	var raws [][]byte
	for i, l := range lines {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		raw, err := DecodeKey(l)
		if err != nil {
			return nil, fmt.Errorf("seal: %s key-encryption keys from %s, line %d: %w", name, source, i+1, err)
		}
		raws = append(raws, raw)
	}
	return New(name, source, raws...)
}

// DecodeKey decodes a key written as hex or base64 (standard or URL
// alphabet, padded or not); it must be 32 bytes.
func DecodeKey(text string) ([]byte, error) {
	s := strings.TrimSpace(text)
	if b, err := hex.DecodeString(s); err == nil && len(b) == KeySize {
		return b, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == KeySize {
			return b, nil
		}
	}
	return nil, fmt.Errorf("a key-encryption key must be %d bytes written as hex or base64", KeySize)
}

// writeKeyFile writes keys, base64, one a line, mode 0600; exclusive
// refuses to replace an existing file, otherwise the file is replaced
// atomically.
func writeKeyFile(path string, keys [][]byte, exclusive bool) error {
	var sb strings.Builder
	for _, k := range keys {
		sb.WriteString(base64.StdEncoding.EncodeToString(k) + "\n")
	}
	if exclusive {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		_, werr := f.WriteString(sb.String())
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return fmt.Errorf("write %s: %w", path, werr)
		}
		return nil
	}
	tmp := path + ".new"
	if err := os.WriteFile(tmp, []byte(sb.String()), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("replace %s: %w", path, err)
	}
	return nil
}
