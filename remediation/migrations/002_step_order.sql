-- The order in which an execution's steps were recorded (creation times
-- tie within a millisecond).
ALTER TABLE remediation_steps ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
