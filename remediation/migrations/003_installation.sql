-- Names this database's installation, so that processes sharing it share
-- the agents' messages and other installations on one NATS cluster do not.
CREATE TABLE remediation_installation (
	one INTEGER PRIMARY KEY CHECK (one = 1),
	id TEXT NOT NULL
);
