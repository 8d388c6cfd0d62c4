-- strict_sequential: a FAILED or TIMED_OUT instance numbered above
-- unblocked_through holds back the next instances until it is restarted
-- and succeeds, or the workflow is unblocked (Maestro's unblock).
ALTER TABLE workflow_workflows ADD COLUMN unblocked_through {{bigint}} NOT NULL DEFAULT 0;
