// Package auth holds Gaffer's API credentials: random 256-bit bearer tokens
// stored only as SHA-256 hashes, each with a set of scopes, and the UI
// sessions a token login creates.
//
// Scopes are "<system>:read", "<system>:write", "<system>:sign" and
// "admin". Write implies read for the same system; sign (issuing
// credentials to the caller's own identity, as the SSH CA does) is granted
// only explicitly; admin implies every scope.
package auth
