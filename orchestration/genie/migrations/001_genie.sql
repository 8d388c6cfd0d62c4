-- Applications, commands and clusters: one row each, the resource as
-- Genie's v3 API shows it in doc (JSON), with the columns lists filter on.
CREATE TABLE genie_resources (
	kind TEXT NOT NULL,
	id TEXT NOT NULL,
	name TEXT NOT NULL,
	status TEXT NOT NULL,
	doc TEXT NOT NULL,
	created_at {{bigint}} NOT NULL,
	updated_at {{bigint}} NOT NULL,
	PRIMARY KEY (kind, id)
);
CREATE INDEX genie_resources_by_name ON genie_resources (kind, name);

-- One row: bumped in every transaction that changes a resource, so each
-- process knows when to rebuild its resolution index.
CREATE TABLE genie_revision (
	id INTEGER PRIMARY KEY,
	rev {{bigint}} NOT NULL
);
INSERT INTO genie_revision (id, rev) VALUES (1, 0);

-- Jobs. request is the JobRequest as submitted (JSON); step, when set,
-- the workflow step (workflowapi.StepJob) the job runs for. owner is the
-- process life running it, heartbeat when that process last said so.
CREATE TABLE genie_jobs (
	id TEXT PRIMARY KEY,
	name TEXT NOT NULL,
	usr TEXT NOT NULL,
	version TEXT NOT NULL,
	tags TEXT NOT NULL,
	status TEXT NOT NULL,
	status_msg TEXT NOT NULL,
	request TEXT NOT NULL,
	command_id TEXT NOT NULL,
	command_name TEXT NOT NULL,
	cluster_id TEXT NOT NULL,
	cluster_name TEXT NOT NULL,
	command_args TEXT NOT NULL,
	submitted_by TEXT NOT NULL,
	step TEXT NOT NULL,
	owner TEXT NOT NULL,
	host TEXT NOT NULL,
	pid INTEGER NOT NULL,
	exit_code INTEGER,
	kill_requested INTEGER NOT NULL,
	dir TEXT NOT NULL,
	archive TEXT NOT NULL,
	timeout_s {{bigint}} NOT NULL,
	created_at {{bigint}} NOT NULL,
	updated_at {{bigint}} NOT NULL,
	started_at {{bigint}},
	finished_at {{bigint}},
	heartbeat {{bigint}} NOT NULL
);
CREATE INDEX genie_jobs_by_user ON genie_jobs (usr, status);
CREATE INDEX genie_jobs_by_status ON genie_jobs (status, created_at);
CREATE INDEX genie_jobs_by_created ON genie_jobs (created_at);
CREATE INDEX genie_jobs_by_owner ON genie_jobs (owner, status);
