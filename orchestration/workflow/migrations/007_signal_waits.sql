-- The signal dependencies a running step attempt still waits for, with
-- the params each signal must match (evaluated when the step started).
CREATE TABLE workflow_signal_waits (
	instance_id TEXT NOT NULL,
	step_id TEXT NOT NULL,
	attempt INTEGER NOT NULL,
	idx INTEGER NOT NULL,
	name TEXT NOT NULL,
	matches TEXT NOT NULL,
	PRIMARY KEY (instance_id, step_id, attempt, idx)
);
CREATE INDEX workflow_signal_waits_by_name ON workflow_signal_waits (name);
