//go:build unix

package main

import "syscall"

// restrictUmask makes every file `gaffer serve` and `gaffer worker` create
// readable by the user they run as only (0600 files, 0700 directories):
// the database, the event stream, the metrics store and the secrets in
// the data directory, including files written by libraries (SQLite,
// nats-server) that choose their own modes. Files a system writes for
// other programs set their mode explicitly.
func restrictUmask() { syscall.Umask(0o077) }
