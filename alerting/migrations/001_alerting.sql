-- Alert rules: the spec as JSON, and the last run-time error.
CREATE TABLE alert_rules (
	id TEXT PRIMARY KEY,
	name TEXT NOT NULL,
	grp TEXT NOT NULL,
	spec TEXT NOT NULL,
	enabled INTEGER NOT NULL,
	version {{bigint}} NOT NULL,
	source TEXT NOT NULL,
	created_at {{bigint}} NOT NULL,
	updated_at {{bigint}} NOT NULL,
	created_by TEXT NOT NULL,
	updated_by TEXT NOT NULL,
	last_error TEXT NOT NULL,
	error_at {{bigint}} NOT NULL
);
CREATE INDEX alert_rules_group ON alert_rules (grp, name);

-- The alerts of every rule (pending, firing, and resolved for a while),
-- written at each change of state so that a restart resumes them.
CREATE TABLE alert_instances (
	rule_id TEXT NOT NULL,
	fingerprint TEXT NOT NULL,
	labels TEXT NOT NULL,
	series_labels TEXT NOT NULL,
	annotations TEXT NOT NULL,
	state TEXT NOT NULL,
	value DOUBLE PRECISION,
	active_at {{bigint}} NOT NULL,
	fired_at {{bigint}},
	resolved_at {{bigint}},
	last_seen {{bigint}} NOT NULL,
	report_id TEXT NOT NULL,
	PRIMARY KEY (rule_id, fingerprint)
);

-- Every change of state.
CREATE TABLE alert_history (
	id {{autoid}},
	rule_id TEXT NOT NULL,
	fingerprint TEXT NOT NULL,
	labels TEXT NOT NULL,
	from_state TEXT NOT NULL,
	to_state TEXT NOT NULL,
	at {{bigint}} NOT NULL,
	value DOUBLE PRECISION
);
CREATE INDEX alert_history_rule ON alert_history (rule_id, at);
CREATE INDEX alert_history_at ON alert_history (at);

CREATE TABLE alert_silences (
	id TEXT PRIMARY KEY,
	matchers TEXT NOT NULL,
	starts_at {{bigint}} NOT NULL,
	ends_at {{bigint}} NOT NULL,
	created_by TEXT NOT NULL,
	comment TEXT NOT NULL,
	created_at {{bigint}} NOT NULL,
	updated_at {{bigint}} NOT NULL
);
CREATE INDEX alert_silences_ends ON alert_silences (ends_at);

CREATE TABLE alert_inhibitions (
	id TEXT PRIMARY KEY,
	source_matchers TEXT NOT NULL,
	target_matchers TEXT NOT NULL,
	equal_labels TEXT NOT NULL,
	comment TEXT NOT NULL,
	created_by TEXT NOT NULL,
	created_at {{bigint}} NOT NULL
);

-- Small facts the system keeps, such as how far the demo's history was
-- evaluated.
CREATE TABLE alert_meta (
	name TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
