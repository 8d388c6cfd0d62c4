-- Signals (Maestro's): named messages with params that start workflows
-- whose signal triggers they complete.
CREATE TABLE workflow_signals (
	seq {{autoid}},
	name TEXT NOT NULL,
	params TEXT NOT NULL,
	created_by TEXT NOT NULL,
	created_at {{bigint}} NOT NULL
);
CREATE INDEX workflow_signals_by_name ON workflow_signals (name, seq);

-- Which signal names each workflow's active signal triggers wait for.
CREATE TABLE workflow_signal_triggers (
	workflow_id TEXT NOT NULL,
	idx INTEGER NOT NULL,
	name TEXT NOT NULL,
	PRIMARY KEY (workflow_id, idx, name)
);
CREATE INDEX workflow_signal_triggers_by_name ON workflow_signal_triggers (name);

-- Each set of signals fires a trigger once.
CREATE TABLE workflow_signal_firings (
	workflow_id TEXT NOT NULL,
	idx INTEGER NOT NULL,
	signals TEXT NOT NULL,
	PRIMARY KEY (workflow_id, idx, signals)
);
