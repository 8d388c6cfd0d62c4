CREATE TABLE certs_authorities (
	name TEXT PRIMARY KEY,
	kind TEXT NOT NULL,
	parent TEXT NOT NULL DEFAULT '',
	subject TEXT NOT NULL DEFAULT '',
	certificate TEXT NOT NULL DEFAULT '',
	key_algorithm TEXT NOT NULL DEFAULT '',
	sealed_key {{blob}},
	kek_id TEXT NOT NULL DEFAULT '',
	not_before BIGINT NOT NULL DEFAULT 0,
	not_after BIGINT NOT NULL DEFAULT 0,
	policy TEXT NOT NULL DEFAULT '{}',
	acme TEXT NOT NULL DEFAULT '{}',
	crl_number BIGINT NOT NULL DEFAULT 0,
	created_at BIGINT NOT NULL,
	created_by TEXT NOT NULL DEFAULT ''
);

CREATE TABLE certs_certificates (
	id {{autoid}},
	serial TEXT NOT NULL,
	authority TEXT NOT NULL DEFAULT '',
	source TEXT NOT NULL,
	common_name TEXT NOT NULL DEFAULT '',
	names TEXT NOT NULL DEFAULT '',
	issuer TEXT NOT NULL DEFAULT '',
	key_algorithm TEXT NOT NULL DEFAULT '',
	fingerprint TEXT NOT NULL,
	not_before BIGINT NOT NULL,
	not_after BIGINT NOT NULL,
	certificate TEXT NOT NULL,
	chain TEXT NOT NULL DEFAULT '',
	sealed_key {{blob}},
	kek_id TEXT NOT NULL DEFAULT '',
	owner TEXT NOT NULL DEFAULT '',
	team TEXT NOT NULL DEFAULT '',
	notes TEXT NOT NULL DEFAULT '',
	notify_days TEXT NOT NULL DEFAULT '',
	auto_rotate BOOLEAN NOT NULL DEFAULT FALSE,
	rotate_before_days BIGINT NOT NULL DEFAULT 0,
	replaces BIGINT,
	replaced_by BIGINT,
	revoked_at BIGINT,
	revocation_reason BIGINT NOT NULL DEFAULT 0,
	created_at BIGINT NOT NULL,
	created_by TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX certs_certificates_serial ON certs_certificates (serial, issuer, authority);
CREATE INDEX certs_certificates_not_after ON certs_certificates (not_after);
CREATE INDEX certs_certificates_authority ON certs_certificates (authority, revoked_at);
CREATE INDEX certs_certificates_owner ON certs_certificates (owner);
CREATE INDEX certs_certificates_fingerprint ON certs_certificates (fingerprint);

CREATE TABLE certs_names (
	cert_id BIGINT NOT NULL REFERENCES certs_certificates (id),
	name TEXT NOT NULL,
	PRIMARY KEY (cert_id, name)
);
CREATE INDEX certs_names_name ON certs_names (name);

CREATE TABLE certs_endpoints (
	cert_id BIGINT NOT NULL REFERENCES certs_certificates (id),
	endpoint TEXT NOT NULL,
	first_seen BIGINT NOT NULL,
	last_seen BIGINT NOT NULL,
	PRIMARY KEY (cert_id, endpoint)
);

CREATE TABLE certs_destinations (
	id {{autoid}},
	cert_id BIGINT NOT NULL REFERENCES certs_certificates (id),
	kind TEXT NOT NULL,
	cert_path TEXT NOT NULL DEFAULT '',
	key_path TEXT NOT NULL DEFAULT '',
	reload_command TEXT NOT NULL DEFAULT '',
	url TEXT NOT NULL DEFAULT '',
	last_deployed_at BIGINT,
	last_status TEXT NOT NULL DEFAULT '',
	created_at BIGINT NOT NULL
);
CREATE INDEX certs_destinations_cert ON certs_destinations (cert_id);

CREATE TABLE certs_notifications (
	cert_id BIGINT NOT NULL REFERENCES certs_certificates (id),
	threshold_days BIGINT NOT NULL,
	sent_at BIGINT NOT NULL,
	days_left BIGINT NOT NULL,
	event_id TEXT NOT NULL,
	PRIMARY KEY (cert_id, threshold_days)
);
CREATE INDEX certs_notifications_sent ON certs_notifications (sent_at);

CREATE TABLE certs_acme_nonces (
	nonce TEXT PRIMARY KEY,
	expires_at BIGINT NOT NULL
);

CREATE TABLE certs_acme_accounts (
	id TEXT PRIMARY KEY,
	thumbprint TEXT NOT NULL UNIQUE,
	jwk TEXT NOT NULL,
	contact TEXT NOT NULL DEFAULT '',
	status TEXT NOT NULL,
	created_at BIGINT NOT NULL
);

CREATE TABLE certs_acme_orders (
	id TEXT PRIMARY KEY,
	account_id TEXT NOT NULL REFERENCES certs_acme_accounts (id),
	status TEXT NOT NULL,
	identifiers TEXT NOT NULL,
	not_before BIGINT NOT NULL DEFAULT 0,
	not_after BIGINT NOT NULL DEFAULT 0,
	expires_at BIGINT NOT NULL,
	error TEXT NOT NULL DEFAULT '',
	cert_serial TEXT NOT NULL DEFAULT '',
	created_at BIGINT NOT NULL
);
CREATE INDEX certs_acme_orders_account ON certs_acme_orders (account_id);

CREATE TABLE certs_acme_authzs (
	id TEXT PRIMARY KEY,
	order_id TEXT NOT NULL REFERENCES certs_acme_orders (id),
	account_id TEXT NOT NULL,
	identifier TEXT NOT NULL,
	wildcard BOOLEAN NOT NULL DEFAULT FALSE,
	status TEXT NOT NULL,
	expires_at BIGINT NOT NULL
);
CREATE INDEX certs_acme_authzs_order ON certs_acme_authzs (order_id);

CREATE TABLE certs_acme_challenges (
	id TEXT PRIMARY KEY,
	authz_id TEXT NOT NULL REFERENCES certs_acme_authzs (id),
	type TEXT NOT NULL,
	token TEXT NOT NULL,
	status TEXT NOT NULL,
	validated_at BIGINT,
	error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX certs_acme_challenges_authz ON certs_acme_challenges (authz_id);
