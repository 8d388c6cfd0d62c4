-- The time triggers of each workflow's active version, and when each
-- fires next (the service clock, Unix ms). A process that fires one moves
-- next_at on in the transaction that starts the instance, so a firing
-- starts one instance whatever the number of processes.
CREATE TABLE workflow_time_triggers (
	workflow_id TEXT NOT NULL,
	idx INTEGER NOT NULL,
	version INTEGER NOT NULL,
	next_at {{bigint}} NOT NULL,
	PRIMARY KEY (workflow_id, idx)
);
CREATE INDEX workflow_time_triggers_by_next ON workflow_time_triggers (next_at);

-- Backfills: instances started for each scheduled time of a past range.
CREATE TABLE workflow_backfills (
	id TEXT PRIMARY KEY,
	workflow_id TEXT NOT NULL,
	from_at {{bigint}} NOT NULL,
	to_at {{bigint}} NOT NULL,
	total INTEGER NOT NULL,
	created_by TEXT NOT NULL,
	created_at {{bigint}} NOT NULL
);
ALTER TABLE workflow_instances ADD COLUMN backfill_id TEXT NOT NULL DEFAULT '';
CREATE INDEX workflow_instances_by_backfill ON workflow_instances (backfill_id);
