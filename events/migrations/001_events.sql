-- The installation names this database's durable consumer on the event
-- stream: every process sharing the database shares the consumer.
CREATE TABLE event_installation (
	one INTEGER PRIMARY KEY CHECK (one = 1),
	id TEXT NOT NULL,
	created_at {{bigint}} NOT NULL,
	demo_loaded_at {{bigint}}
);

CREATE TABLE event_rules (
	id TEXT PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	description TEXT NOT NULL,
	condition TEXT NOT NULL,
	actions TEXT NOT NULL,
	enabled INTEGER NOT NULL,
	version {{bigint}} NOT NULL,
	created_at {{bigint}} NOT NULL,
	updated_at {{bigint}} NOT NULL,
	created_by TEXT NOT NULL,
	updated_by TEXT NOT NULL
);

-- One row, bumped with every rule change, so that other processes notice.
CREATE TABLE event_rules_generation (
	id INTEGER PRIMARY KEY,
	generation {{bigint}} NOT NULL
);
INSERT INTO event_rules_generation (id, generation) VALUES (1, 0);

-- Deliveries that failed for good, until re-driven.
CREATE TABLE event_deadletters (
	id {{autoid}},
	status TEXT NOT NULL,
	rule_id TEXT NOT NULL,
	rule_name TEXT NOT NULL,
	action_index INTEGER NOT NULL,
	action TEXT NOT NULL,
	event TEXT NOT NULL,
	event_id TEXT NOT NULL,
	event_type TEXT NOT NULL,
	event_source TEXT NOT NULL,
	attempts INTEGER NOT NULL,
	error TEXT NOT NULL,
	created_at {{bigint}} NOT NULL,
	updated_at {{bigint}} NOT NULL,
	redrives INTEGER NOT NULL,
	job_id {{bigint}}
);
CREATE INDEX event_deadletters_status ON event_deadletters (status, id);

-- Suppression budgets: one row per rule, action and group key.
CREATE TABLE event_suppress (
	rule_id TEXT NOT NULL,
	action_index INTEGER NOT NULL,
	group_key TEXT NOT NULL,
	window_start {{bigint}} NOT NULL,
	window_end {{bigint}} NOT NULL,
	passed INTEGER NOT NULL,
	suppressed INTEGER NOT NULL,
	PRIMARY KEY (rule_id, action_index, group_key)
);
CREATE INDEX event_suppress_end ON event_suppress (window_end);

-- The decision taken for each event, so that a redelivered event gets the
-- same answer instead of spending the budget twice.
CREATE TABLE event_suppress_decisions (
	rule_id TEXT NOT NULL,
	action_index INTEGER NOT NULL,
	event_key TEXT NOT NULL,
	passed INTEGER NOT NULL,
	expires {{bigint}} NOT NULL,
	PRIMARY KEY (rule_id, action_index, event_key)
);
CREATE INDEX event_suppress_decisions_expires ON event_suppress_decisions (expires);
