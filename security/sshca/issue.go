package sshca

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// NewSerial returns a random non-zero 63-bit serial number (positive as a
// signed BIGINT on every engine; OpenSSH cannot revoke serial 0).
func NewSerial() (uint64, error) {
	var b [8]byte
	for {
		if _, err := io.ReadFull(rand.Reader, b[:]); err != nil {
			return 0, fmt.Errorf("sshca: serial: %w", err)
		}
		if s := binary.BigEndian.Uint64(b[:]) >> 1; s != 0 {
			return s, nil
		}
	}
}

// KeyID formats a certificate's key ID the way Bless does, so that sshd's
// log line for a login names the request, the identity, where it came
// from, the key and the expiry.
func KeyID(requestID, identity, clientIP, command, fingerprint, ca string, validBefore time.Time) string {
	clean := strings.NewReplacer("[", "(", "]", ")", "\n", " ", "\r", " ")
	return fmt.Sprintf("request[%s] for[%s] from[%s] command[%s] ssh_key[%s] ca[%s] valid_to[%s]",
		clean.Replace(requestID), clean.Replace(identity), clean.Replace(clientIP), clean.Replace(command),
		fingerprint, clean.Replace(ca), validBefore.UTC().Format("2006/01/02 15:04:05"))
}

// Issue signs a certificate for key from a template. It is the hot path of
// the CA and touches no database.
func Issue(signer ssh.Signer, key ssh.PublicKey, t *Template, serial uint64, keyID string) (*ssh.Certificate, error) {
	cert := &ssh.Certificate{
		Key:             key,
		Serial:          serial,
		CertType:        t.CertType,
		KeyId:           keyID,
		ValidPrincipals: t.Principals,
		ValidAfter:      uint64(t.ValidAfter.Unix()),
		ValidBefore:     uint64(t.ValidBefore.Unix()),
		Permissions: ssh.Permissions{
			CriticalOptions: t.CriticalOptions,
			Extensions:      t.Extensions,
		},
	}
	if err := cert.SignCert(rand.Reader, signer); err != nil {
		return nil, fmt.Errorf("sshca: sign certificate: %w", err)
	}
	return cert, nil
}
