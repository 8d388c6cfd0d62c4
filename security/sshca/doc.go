// Package sshca is Gaffer's SSH certificate authority, the equivalent of
// Netflix's Bless: it signs short-lived OpenSSH user certificates (five
// minutes by default) for people and services authenticated by a Gaffer
// token bound to an identity, or by an OIDC ID token, and host
// certificates for bootstrapping hosts.
//
// Each CA (by default "user" and "host") has its own keys, ed25519 unless
// asked otherwise; a rotation adds a key that signs from then on while the
// old one stays trusted until it is retired. Private keys are sealed with
// AES-256-GCM under a key-encryption key kept outside the database, and no
// API returns them. A policy per identity or group decides what may be
// signed: principals, validity, source addresses, forced command,
// extensions, key types and sizes, and username rules. Every issuance and
// refusal is audited, and a certificate's key ID records the request ID,
// identity, client address, key fingerprint and expiry, as Bless does.
//
// Revocations (by serial, key ID or public key) are published as an
// OpenSSH key revocation list (KRL, PROTOCOL.krl) that sshd's RevokedKeys
// and `ssh-keygen -Q` read, and as a plain revoked-keys file.
//
// Anchors: Bless (archived; its users asked for host-restricted
// authorization, ed25519 CA keys and simpler setup), smallstep step-ca's
// SSH provisioners, and Vault's SSH secrets engine. See docs/sshca.md.
package sshca
