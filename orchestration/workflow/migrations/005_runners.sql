-- Failures of a step counted apart by kind, as Maestro's retry policy
-- limits them (user errors, platform errors, timeouts), and the link to
-- the record another system keeps of a step it ran (a notebook run, a
-- runbook execution, a Genie job).
ALTER TABLE workflow_steps ADD COLUMN user_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE workflow_steps ADD COLUMN platform_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE workflow_steps ADD COLUMN timeout_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE workflow_steps ADD COLUMN ref TEXT NOT NULL DEFAULT '';
