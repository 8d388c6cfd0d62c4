CREATE TABLE auth_tokens (
	id TEXT PRIMARY KEY,
	name TEXT NOT NULL,
	identity TEXT NOT NULL DEFAULT '',
	scopes TEXT NOT NULL,
	hash TEXT NOT NULL UNIQUE,
	created_at BIGINT NOT NULL,
	created_by TEXT NOT NULL DEFAULT '',
	expires_at BIGINT,
	revoked_at BIGINT,
	last_used_at BIGINT
);

CREATE TABLE auth_sessions (
	id_hash TEXT PRIMARY KEY,
	token_id TEXT NOT NULL,
	name TEXT NOT NULL,
	identity TEXT NOT NULL DEFAULT '',
	scopes TEXT NOT NULL,
	csrf TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL
);
