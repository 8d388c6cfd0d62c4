-- The kernel a workflow's notebook steps use when they name none.
CREATE TABLE notebook_workflow_kernels (
	workflow_id TEXT PRIMARY KEY,
	kernel TEXT NOT NULL,
	set_by TEXT NOT NULL,
	set_at {{bigint}} NOT NULL
);
