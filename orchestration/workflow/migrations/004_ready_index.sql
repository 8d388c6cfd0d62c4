-- Steps are found by status only to resume the ready ones (CREATED) when
-- a process starts; every other lookup names the instance. An index on
-- status alone misled SQLite's planner into scanning every NOT_CREATED
-- step of every instance for "this instance's steps with no pending
-- predecessors", so it becomes a partial index of the ready steps.
DROP INDEX workflow_steps_by_status;
CREATE INDEX workflow_steps_ready ON workflow_steps (instance_id) WHERE status = 'CREATED';
-- Instances are never looked up by status alone either: resume starts
-- from the ready steps. One index fewer to keep on every start.
DROP INDEX workflow_instances_by_status;
