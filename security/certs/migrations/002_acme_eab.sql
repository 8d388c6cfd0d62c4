-- External account binding (RFC 8555 section 7.3.4) for the ACME server:
-- keys an admin creates per authority, sealed under the key-encryption
-- key; accounts belong to the authority they registered with.
CREATE TABLE certs_acme_eab_keys (
	id TEXT PRIMARY KEY,
	authority TEXT NOT NULL,
	sealed_key {{blob}},
	kek_id TEXT NOT NULL DEFAULT '',
	note TEXT NOT NULL DEFAULT '',
	created_at BIGINT NOT NULL,
	created_by TEXT NOT NULL DEFAULT '',
	account_id TEXT NOT NULL DEFAULT '',
	bound_at BIGINT NOT NULL DEFAULT 0,
	revoked_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX certs_acme_eab_keys_authority ON certs_acme_eab_keys (authority);

ALTER TABLE certs_acme_accounts ADD COLUMN authority TEXT NOT NULL DEFAULT '';
ALTER TABLE certs_acme_accounts ADD COLUMN eab_key_id TEXT NOT NULL DEFAULT '';

ALTER TABLE certs_authorities ADD COLUMN acme_anonymous_accounts BOOLEAN NOT NULL DEFAULT FALSE;
