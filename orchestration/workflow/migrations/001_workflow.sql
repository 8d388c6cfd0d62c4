-- Workflows: every apply is a new version; active is the version new
-- instances run (a rollback moves it), latest the newest.
CREATE TABLE workflow_workflows (
	id TEXT PRIMARY KEY,
	latest INTEGER NOT NULL,
	active INTEGER NOT NULL,
	next_instance INTEGER NOT NULL,
	created_at {{bigint}} NOT NULL,
	updated_at {{bigint}} NOT NULL
);

CREATE TABLE workflow_versions (
	workflow_id TEXT NOT NULL,
	version INTEGER NOT NULL,
	definition TEXT NOT NULL,
	created_by TEXT NOT NULL,
	created_at {{bigint}} NOT NULL,
	PRIMARY KEY (workflow_id, version)
);

-- Instances: a run of a workflow (instance_no > 0), or an inner run the
-- engine made: one iteration of a foreach (parent_id, parent_step,
-- iteration; scope is the foreach's path in the definition).
CREATE TABLE workflow_instances (
	id TEXT PRIMARY KEY,
	workflow_id TEXT NOT NULL,
	instance_no INTEGER NOT NULL,
	version INTEGER NOT NULL,
	parent_id TEXT NOT NULL,
	parent_step TEXT NOT NULL,
	iteration INTEGER NOT NULL,
	scope TEXT NOT NULL,
	status TEXT NOT NULL,
	params TEXT NOT NULL,
	error TEXT NOT NULL,
	created_by TEXT NOT NULL,
	created_at {{bigint}} NOT NULL,
	finished_at {{bigint}}
);
CREATE INDEX workflow_instances_by_workflow ON workflow_instances (workflow_id, instance_no);
CREATE INDEX workflow_instances_by_parent ON workflow_instances (parent_id, parent_step, iteration);
CREATE INDEX workflow_instances_by_status ON workflow_instances (status);

-- Steps of an instance. pending counts predecessors not yet done,
-- satisfied the incoming edges whose condition held; a foreach counts
-- its iterations.
CREATE TABLE workflow_steps (
	instance_id TEXT NOT NULL,
	step_id TEXT NOT NULL,
	status TEXT NOT NULL,
	attempts INTEGER NOT NULL,
	pending INTEGER NOT NULL,
	satisfied INTEGER NOT NULL,
	params TEXT NOT NULL,
	output TEXT NOT NULL,
	error TEXT NOT NULL,
	iterations INTEGER NOT NULL,
	started INTEGER NOT NULL,
	done INTEGER NOT NULL,
	failed INTEGER NOT NULL,
	started_at {{bigint}},
	finished_at {{bigint}},
	PRIMARY KEY (instance_id, step_id)
);
CREATE INDEX workflow_steps_by_status ON workflow_steps (status);
