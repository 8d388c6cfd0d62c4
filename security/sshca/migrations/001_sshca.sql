CREATE TABLE sshca_meta (
	name TEXT PRIMARY KEY,
	value TEXT NOT NULL
);

CREATE TABLE sshca_cas (
	name TEXT PRIMARY KEY,
	cert_type TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	created_at BIGINT NOT NULL,
	created_by TEXT NOT NULL DEFAULT ''
);

CREATE TABLE sshca_ca_keys (
	id TEXT PRIMARY KEY,
	ca_name TEXT NOT NULL REFERENCES sshca_cas (name),
	algorithm TEXT NOT NULL,
	public_key TEXT NOT NULL,
	fingerprint TEXT NOT NULL,
	sealed_private_key {{blob}} NOT NULL,
	kek_id TEXT NOT NULL,
	state TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	retired_at BIGINT
);
CREATE INDEX sshca_ca_keys_ca ON sshca_ca_keys (ca_name);

CREATE TABLE sshca_policies (
	name TEXT PRIMARY KEY,
	body TEXT NOT NULL,
	updated_at BIGINT NOT NULL,
	updated_by TEXT NOT NULL DEFAULT ''
);

CREATE TABLE sshca_certs (
	id {{autoid}},
	serial BIGINT NOT NULL UNIQUE,
	ca_name TEXT NOT NULL,
	ca_key_id TEXT NOT NULL,
	cert_type TEXT NOT NULL,
	identity TEXT NOT NULL,
	policy TEXT NOT NULL,
	key_id TEXT NOT NULL,
	principals TEXT NOT NULL,
	fingerprint TEXT NOT NULL,
	valid_after BIGINT NOT NULL,
	valid_before BIGINT NOT NULL,
	issued_at BIGINT NOT NULL,
	client_ip TEXT NOT NULL DEFAULT '',
	request_id TEXT NOT NULL DEFAULT '',
	certificate TEXT NOT NULL,
	revoked_at BIGINT
);
CREATE INDEX sshca_certs_identity ON sshca_certs (identity);
CREATE INDEX sshca_certs_fingerprint ON sshca_certs (fingerprint);
CREATE INDEX sshca_certs_key_id ON sshca_certs (key_id);

CREATE TABLE sshca_revocations (
	id {{autoid}},
	kind TEXT NOT NULL,
	ca_name TEXT NOT NULL DEFAULT '',
	ca_key_id TEXT NOT NULL DEFAULT '',
	serial BIGINT NOT NULL DEFAULT 0,
	key_id TEXT NOT NULL DEFAULT '',
	public_key TEXT NOT NULL DEFAULT '',
	fingerprint TEXT NOT NULL DEFAULT '',
	reason TEXT NOT NULL DEFAULT '',
	revoked_at BIGINT NOT NULL,
	revoked_by TEXT NOT NULL DEFAULT ''
);
