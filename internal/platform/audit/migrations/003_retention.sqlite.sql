-- Retention: entries may be deleted only once an export holds them. Each
-- export covers every entry with id <= upto_id; the delete trigger checks
-- it, so no code path can delete an entry that was not exported.
CREATE TABLE audit_exports (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	upto_id INTEGER NOT NULL,
	entries INTEGER NOT NULL,
	path TEXT NOT NULL,
	sha256 TEXT NOT NULL,
	exported_at INTEGER NOT NULL
);
CREATE TRIGGER audit_exports_no_update BEFORE UPDATE ON audit_exports
BEGIN SELECT RAISE(ABORT, 'audit_exports is append-only'); END;
CREATE TRIGGER audit_exports_no_delete BEFORE DELETE ON audit_exports
BEGIN SELECT RAISE(ABORT, 'audit_exports is append-only'); END;
DROP TRIGGER audit_log_no_delete;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
WHEN OLD.id > (SELECT COALESCE(MAX(upto_id), 0) FROM audit_exports)
BEGIN SELECT RAISE(ABORT, 'audit_log: only exported entries may be deleted'); END;
