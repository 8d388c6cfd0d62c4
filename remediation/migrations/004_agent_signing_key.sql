-- The ed25519 key the server signs its requests to agents with (run,
-- cancel, status), shared by every process of the installation. Agents
-- receive the public half when they bootstrap.
CREATE TABLE remediation_signing_key (
	one INTEGER PRIMARY KEY CHECK (one = 1),
	seed TEXT NOT NULL,
	created_at {{bigint}} NOT NULL
);
