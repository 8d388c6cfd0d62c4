package certs

import (
	"encoding/json"
	"errors"
	"net/http"

	jose "github.com/go-jose/go-jose/v4"
)

// probExternalAccountRequired is the problem type of a newAccount without
// the external account binding the authority requires (RFC 8555 section
// 7.3.4).
const probExternalAccountRequired = acmeErr + "externalAccountRequired"

// eabAlgs are the MAC algorithms an external account binding may use.
// HS256 is what ACME clients send; Gaffer's EAB keys are 256 bits, too
// short for HS384 and HS512 (RFC 7518 section 3.2).
var eabAlgs = []jose.SignatureAlgorithm{jose.HS256}

// errEABKeyUnknown is returned by an EAB key lookup for a key id the
// authority does not have (never created, created for another authority,
// or revoked).
var errEABKeyUnknown = errors.New("no such EAB key")

// errEABKeyUsed is returned by an EAB key lookup for a key that already
// created an account.
var errEABKeyUsed = errors.New("EAB key already used")

// verifyEAB checks the externalAccountBinding of a newAccount request
// (RFC 8555 section 7.3.4): a JWS whose protected header has alg HS256,
// kid (the EAB key id), url equal to the outer JWS's (the newAccount URL)
// and no nonce, whose payload is the account key accountKey, and whose
// MAC verifies with the key hmacKey returns for kid. It returns the key
// id. Failures are *acmeProblem; an error from hmacKey other than
// errEABKeyUnknown and errEABKeyUsed is returned wrapped as it is.
func verifyEAB(raw json.RawMessage, wantURL string, accountKey *jose.JSONWebKey, hmacKey func(kid string) ([]byte, error)) (string, error) {
	jws, err := jose.ParseSigned(string(raw), eabAlgs)
	if err != nil {
		return "", problem(http.StatusBadRequest, probMalformed, "externalAccountBinding: not a JWS with alg HS256: %v", err)
	}
	if len(jws.Signatures) != 1 {
		return "", problem(http.StatusBadRequest, probMalformed, "externalAccountBinding: want exactly one signature")
	}
	hdr := jws.Signatures[0].Protected
	if hdr.KeyID == "" {
		return "", problem(http.StatusBadRequest, probMalformed, "externalAccountBinding: the protected header has no kid (the EAB key id)")
	}
	if hdr.Nonce != "" {
		return "", problem(http.StatusBadRequest, probMalformed, "externalAccountBinding: the protected header must not have a nonce")
	}
	if hdr.JSONWebKey != nil {
		return "", problem(http.StatusBadRequest, probMalformed, "externalAccountBinding: the protected header must not have a jwk")
	}
	if url, _ := hdr.ExtraHeaders["url"].(string); url != wantURL {
		return "", problem(http.StatusUnauthorized, probUnauthorized, "externalAccountBinding: url %.200q is not the newAccount URL %q", url, wantURL)
	}
	key, err := hmacKey(hdr.KeyID)
	switch {
	case errors.Is(err, errEABKeyUnknown):
		return "", problem(http.StatusUnauthorized, probUnauthorized, "externalAccountBinding: %.100q is not an EAB key of this authority, or it was revoked", hdr.KeyID)
	case errors.Is(err, errEABKeyUsed):
		return "", problem(http.StatusUnauthorized, probUnauthorized, "externalAccountBinding: EAB key %.100s already created an account; ask for a new key", hdr.KeyID)
	case err != nil:
		return "", err
	}
	payload, err := jws.Verify(key)
	clear(key)
	if err != nil {
		return "", problem(http.StatusUnauthorized, probUnauthorized, "externalAccountBinding: the MAC does not verify with EAB key %.100s", hdr.KeyID)
	}
	var bound jose.JSONWebKey
	if err := bound.UnmarshalJSON(payload); err != nil {
		return "", problem(http.StatusBadRequest, probMalformed, "externalAccountBinding: the payload is not a JWK: %v", err)
	}
	got, err1 := thumbprint(&bound)
	want, err2 := thumbprint(accountKey)
	if err1 != nil || err2 != nil || got != want {
		return "", problem(http.StatusUnauthorized, probUnauthorized, "externalAccountBinding: the payload is not the account key that signed the request")
	}
	return hdr.KeyID, nil
}
