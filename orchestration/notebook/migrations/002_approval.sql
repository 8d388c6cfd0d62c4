-- Runbook notebooks: a run waits before a cell tagged approval until a
-- person approves or refuses it.
ALTER TABLE notebook_runs ADD COLUMN approval_cell INTEGER NOT NULL DEFAULT -1;
ALTER TABLE notebook_runs ADD COLUMN approval TEXT NOT NULL DEFAULT '';
ALTER TABLE notebook_runs ADD COLUMN approval_by TEXT NOT NULL DEFAULT '';
ALTER TABLE notebook_runs ADD COLUMN approval_comment TEXT NOT NULL DEFAULT '';
