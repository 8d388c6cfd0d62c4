-- Notebooks: every upload is a new version; latest is the newest,
-- published the version shown read-only (0: none).
CREATE TABLE notebook_notebooks (
	id TEXT PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	latest INTEGER NOT NULL,
	published INTEGER NOT NULL DEFAULT 0,
	archived INTEGER NOT NULL DEFAULT 0,
	cloned_from TEXT NOT NULL DEFAULT '',
	created_by TEXT NOT NULL,
	created_at {{bigint}} NOT NULL,
	updated_at {{bigint}} NOT NULL
);

CREATE TABLE notebook_versions (
	notebook_id TEXT NOT NULL,
	version INTEGER NOT NULL,
	content TEXT NOT NULL,
	created_by TEXT NOT NULL,
	created_at {{bigint}} NOT NULL,
	PRIMARY KEY (notebook_id, version)
);

-- Runs: every execution with its parameters, progress, scraps and output
-- notebook. A run a workflow step started names the step's attempt.
CREATE TABLE notebook_runs (
	id {{autoid}},
	notebook_id TEXT NOT NULL,
	version INTEGER NOT NULL,
	kernel TEXT NOT NULL,
	params TEXT NOT NULL,
	timeout_ms {{bigint}} NOT NULL,
	status TEXT NOT NULL,
	cells INTEGER NOT NULL DEFAULT 0,
	cells_done INTEGER NOT NULL DEFAULT 0,
	failed_cell INTEGER NOT NULL DEFAULT -1,
	error TEXT NOT NULL DEFAULT '',
	scraps TEXT NOT NULL DEFAULT '{}',
	output TEXT NOT NULL DEFAULT '',
	step_instance TEXT NOT NULL DEFAULT '',
	step TEXT NOT NULL DEFAULT '',
	step_attempt INTEGER NOT NULL DEFAULT 0,
	cancel_requested INTEGER NOT NULL DEFAULT 0,
	created_by TEXT NOT NULL,
	created_at {{bigint}} NOT NULL,
	started_at {{bigint}} NOT NULL DEFAULT 0,
	ended_at {{bigint}} NOT NULL DEFAULT 0
);
CREATE INDEX notebook_runs_by_notebook ON notebook_runs (notebook_id, id);
CREATE UNIQUE INDEX notebook_runs_by_step ON notebook_runs (step_instance, step, step_attempt) WHERE step_instance <> '';
