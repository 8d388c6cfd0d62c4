-- Metadata of every event the consumer has seen, keyed by stream sequence:
-- the index the event list reads (JetStream holds the events themselves).
-- Text compares bytewise (SQLite's BINARY collation), so prefix filters
-- are index range scans.
CREATE TABLE event_index (
	seq INTEGER PRIMARY KEY,
	event_id TEXT NOT NULL,
	source TEXT NOT NULL,
	type TEXT NOT NULL,
	subject TEXT NOT NULL,
	time_ms INTEGER NOT NULL,
	received_ms INTEGER NOT NULL
);
CREATE INDEX event_index_type ON event_index (type, seq);
CREATE INDEX event_index_source ON event_index (source, seq);
CREATE INDEX event_index_time ON event_index (time_ms);
