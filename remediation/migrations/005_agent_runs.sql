-- Runs of declared actions that other systems asked for through the
-- remediation.agent_run job kind (see remediationapi.AgentRun): where
-- each run's output and result are to be sent, and how far it got.
CREATE TABLE remediation_agent_runs (
	run_id TEXT PRIMARY KEY,
	reply_kind TEXT NOT NULL,
	caller_key TEXT NOT NULL,
	agent TEXT NOT NULL,
	agent_boot TEXT NOT NULL DEFAULT '',
	action TEXT NOT NULL,
	-- dispatching, running, cancelled (before it started) or done
	status TEXT NOT NULL,
	created_at {{bigint}} NOT NULL,
	UNIQUE (reply_kind, caller_key)
);
CREATE INDEX remediation_agent_runs_agent ON remediation_agent_runs (agent, status);
