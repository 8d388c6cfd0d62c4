-- See 002_index.sqlite.sql. The "C" collation makes text compare bytewise,
-- as in SQLite, so prefix filters are index range scans.
CREATE TABLE event_index (
	seq BIGINT PRIMARY KEY,
	event_id TEXT NOT NULL,
	source TEXT COLLATE "C" NOT NULL,
	type TEXT COLLATE "C" NOT NULL,
	subject TEXT NOT NULL,
	time_ms BIGINT NOT NULL,
	received_ms BIGINT NOT NULL
);
CREATE INDEX event_index_type ON event_index (type, seq);
CREATE INDEX event_index_source ON event_index (source, seq);
CREATE INDEX event_index_time ON event_index (time_ms);
