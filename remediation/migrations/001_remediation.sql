-- Runbooks: the name and its latest version; each change is a new version.
CREATE TABLE remediation_runbooks (
	name TEXT PRIMARY KEY,
	description TEXT NOT NULL,
	latest INTEGER NOT NULL,
	created_at {{bigint}} NOT NULL,
	updated_at {{bigint}} NOT NULL,
	-- schedule_last is the last cron time a run was started for.
	schedule_last {{bigint}}
);

CREATE TABLE remediation_versions (
	runbook TEXT NOT NULL,
	version INTEGER NOT NULL,
	source TEXT NOT NULL,
	digest TEXT NOT NULL,
	created_at {{bigint}} NOT NULL,
	created_by TEXT NOT NULL,
	message TEXT NOT NULL,
	PRIMARY KEY (runbook, version)
);

-- Which version each environment (dev, test, prod) runs, and its history
-- for rollbacks.
CREATE TABLE remediation_deployments (
	id {{autoid}},
	runbook TEXT NOT NULL,
	env TEXT NOT NULL,
	version INTEGER NOT NULL,
	at {{bigint}} NOT NULL,
	by_actor TEXT NOT NULL,
	note TEXT NOT NULL
);
CREATE INDEX remediation_deployments_env ON remediation_deployments (runbook, env, id);

CREATE TABLE remediation_executions (
	id TEXT PRIMARY KEY,
	runbook TEXT NOT NULL,
	version INTEGER NOT NULL,
	env TEXT NOT NULL,
	status TEXT NOT NULL,
	params TEXT NOT NULL,
	vars TEXT NOT NULL,
	trigger_info TEXT NOT NULL,
	trigger_key TEXT UNIQUE,
	started_by TEXT NOT NULL,
	attention TEXT NOT NULL,
	error TEXT NOT NULL,
	failed INTEGER NOT NULL,
	created_at {{bigint}} NOT NULL,
	updated_at {{bigint}} NOT NULL,
	finished_at {{bigint}},
	deadline {{bigint}} NOT NULL
);
CREATE INDEX remediation_executions_created ON remediation_executions (created_at, id);
CREATE INDEX remediation_executions_status ON remediation_executions (status);

-- Steps of executions. A fan-out step has a row per item, keyed name[i],
-- whose parent is the step's name.
CREATE TABLE remediation_steps (
	execution_id TEXT NOT NULL,
	step_key TEXT NOT NULL,
	name TEXT NOT NULL,
	parent TEXT NOT NULL,
	item_index INTEGER NOT NULL,
	item TEXT NOT NULL,
	status TEXT NOT NULL,
	attempt INTEGER NOT NULL,
	owner TEXT NOT NULL,
	lease_until {{bigint}} NOT NULL,
	run_id TEXT NOT NULL,
	agent TEXT NOT NULL,
	agent_boot TEXT NOT NULL,
	items_total INTEGER NOT NULL,
	items_started INTEGER NOT NULL,
	items_done INTEGER NOT NULL,
	items_failed INTEGER NOT NULL,
	created_at {{bigint}} NOT NULL,
	started_at {{bigint}},
	finished_at {{bigint}},
	output {{blob}},
	error TEXT NOT NULL,
	detail TEXT NOT NULL,
	PRIMARY KEY (execution_id, step_key)
);
CREATE INDEX remediation_steps_lease ON remediation_steps (status, lease_until);
CREATE INDEX remediation_steps_run ON remediation_steps (run_id);
CREATE INDEX remediation_steps_agent ON remediation_steps (agent, status);

-- Live output of steps, in chunks.
CREATE TABLE remediation_logs (
	id {{autoid}},
	execution_id TEXT NOT NULL,
	step_key TEXT NOT NULL,
	stream TEXT NOT NULL,
	data {{blob}} NOT NULL,
	at {{bigint}} NOT NULL
);
CREATE INDEX remediation_logs_exec ON remediation_logs (execution_id, id);

-- The history of each execution: who started, approved, paused... what.
CREATE TABLE remediation_history (
	id {{autoid}},
	execution_id TEXT NOT NULL,
	at {{bigint}} NOT NULL,
	actor TEXT NOT NULL,
	what TEXT NOT NULL,
	step_key TEXT NOT NULL,
	detail TEXT NOT NULL
);
CREATE INDEX remediation_history_exec ON remediation_history (execution_id, id);

CREATE TABLE remediation_agents (
	name TEXT PRIMARY KEY,
	hostname TEXT NOT NULL,
	os TEXT NOT NULL,
	arch TEXT NOT NULL,
	tags TEXT NOT NULL,
	version TEXT NOT NULL,
	boot TEXT NOT NULL,
	actions TEXT NOT NULL,
	registered_at {{bigint}} NOT NULL,
	last_seen {{bigint}} NOT NULL,
	revoked INTEGER NOT NULL
);

-- Action bundles the server distributes to agents that lock them.
CREATE TABLE remediation_bundles (
	name TEXT NOT NULL,
	version TEXT NOT NULL,
	sha256 TEXT NOT NULL,
	data {{blob}} NOT NULL,
	created_at {{bigint}} NOT NULL,
	created_by TEXT NOT NULL,
	PRIMARY KEY (name, version)
);
