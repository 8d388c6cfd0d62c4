// Package auth holds Gaffer's API credentials: random 256-bit bearer tokens
// stored only as SHA-256 hashes, each with a set of scopes, and the UI
// sessions a token login creates.
//
// Scopes are "<system>:read", "<system>:write" and "admin". Write implies
// read for the same system; admin implies every scope.
package auth
