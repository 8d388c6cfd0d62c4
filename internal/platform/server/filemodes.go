package server

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/gaffer-sre/gaffer/internal/platform/store"
)

// warnDataDirOpen warns when users other than the owner may read or enter
// the data directory: it holds the database, the generated secrets and,
// by default, the key-encryption keys. Gaffer creates it 0700 and its
// files 0600, but does not change a directory the operator made.
func warnDataDirOpen(log *slog.Logger, dir string) {
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm()&0o077 == 0 {
		return
	}
	log.Warn("the data directory is open to other users; it holds the database and secrets: chmod 700 it",
		"dir", dir, "mode", fi.Mode().Perm().String())
}

// warnKEKBesideDatabase warns, once at start, about key-encryption key
// files (*.kek) in the directory of the SQLite database: whoever copies
// or backs up that directory then holds the sealed keys and the key that
// opens them. Under --demo, whose keys guard demo data, it only informs.
func warnKEKBesideDatabase(log *slog.Logger, cfg Config) {
	dsn := cfg.DatabaseDSN()
	if store.IsPostgresDSN(dsn) {
		return
	}
	dir := filepath.Dir(strings.TrimPrefix(dsn, "sqlite:"))
	keys, _ := filepath.Glob(filepath.Join(dir, "*.kek"))
	if len(keys) == 0 {
		return
	}
	logKEK := log.Warn
	if cfg.Demo { // a demo's keys guard demo data
		logKEK = log.Info
	}
	logKEK("key-encryption keys are in the same directory as the database, so a copy of it holds both the sealed "+
		"keys and the keys that open them; keep them elsewhere ($GAFFER_SSHCA_KEK_FILE or --sshca-kek-file, "+
		"$GAFFER_CERTS_KEK_FILE, the key variables, or --kek-command)", "dir", dir, "files", keys)
}
