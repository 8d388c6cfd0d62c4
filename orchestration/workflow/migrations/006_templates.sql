-- Step templates: reusable steps that template steps name (sub_type).
-- Every apply is a version; a workflow's apply copies the newest version
-- into the workflow's own version, so an instance runs what it started
-- with.
CREATE TABLE workflow_templates (
	name TEXT NOT NULL,
	version INTEGER NOT NULL,
	description TEXT NOT NULL,
	body TEXT NOT NULL,
	created_by TEXT NOT NULL,
	created_at {{bigint}} NOT NULL,
	PRIMARY KEY (name, version)
);
