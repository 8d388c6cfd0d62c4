// Package certs is Gaffer's TLS certificate manager, the equivalent of
// Netflix's Lemur: it runs internal certificate authorities (a root that
// can be kept offline and issuing intermediates), brokers certificates from
// external ACME CAs, keeps an inventory of every certificate it issued,
// imported or discovered on the network, notifies owners before expiry,
// rotates certificates and redeploys them, and revokes them with CRLs and
// an OCSP responder. An ACME server (RFC 8555) in front of each issuing
// authority lets certbot, lego or Caddy get certificates from Gaffer.
//
// Every certificate is checked against its authority's policy (allowed
// domains, wildcards, maximum validity, key types) and linted with zlint
// before it is returned; a refusal stores nothing and is audited. Private
// keys are sealed with AES-256-GCM under a rotatable key-encryption key
// kept outside the database, and leave Gaffer only through an explicit
// export that needs the admin scope.
//
// Anchors: Lemur (archived; its users asked for CRL/OCSP, ACME HTTP-01 and
// bulk operations), smallstep step-ca, HashiCorp Vault's PKI engine and
// cert-manager. See docs/certs.md.
package certs
