CREATE TABLE audit_log (
	id {{autoid}},
	at BIGINT NOT NULL,
	actor TEXT NOT NULL,
	action TEXT NOT NULL,
	target TEXT NOT NULL DEFAULT '',
	request_id TEXT NOT NULL DEFAULT '',
	outcome TEXT NOT NULL,
	status INTEGER NOT NULL DEFAULT 0,
	remote_addr TEXT NOT NULL DEFAULT '',
	detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_actor ON audit_log (actor, id);
