-- One analysis: the request, its progress and, once complete, the
-- summary the report page and the API show.
CREATE TABLE analysis_reports (
	id TEXT PRIMARY KEY,
	status TEXT NOT NULL,
	request TEXT NOT NULL,
	error TEXT NOT NULL,
	rule_id TEXT NOT NULL,
	alert_fingerprint TEXT NOT NULL,
	title TEXT NOT NULL,
	shards INTEGER NOT NULL,
	shards_done INTEGER NOT NULL,
	candidates INTEGER NOT NULL,
	summary TEXT NOT NULL,
	created_by TEXT NOT NULL,
	created_at {{bigint}} NOT NULL,
	completed_at {{bigint}}
);
CREATE INDEX analysis_reports_created ON analysis_reports (created_at);
CREATE INDEX analysis_reports_rule ON analysis_reports (rule_id, alert_fingerprint, created_at);

-- The series an analysis compares, read once when it starts: shard -1 is
-- the target, shards 0… the candidates. Removed when the report is
-- complete.
CREATE TABLE analysis_inputs (
	report_id TEXT NOT NULL,
	shard INTEGER NOT NULL,
	labels TEXT NOT NULL,
	data {{blob}} NOT NULL,
	PRIMARY KEY (report_id, shard)
);

-- Which shards are done, and by which process.
CREATE TABLE analysis_shards (
	report_id TEXT NOT NULL,
	shard INTEGER NOT NULL,
	done INTEGER NOT NULL,
	worker TEXT NOT NULL,
	completed_at {{bigint}},
	PRIMARY KEY (report_id, shard)
);

-- Every candidate's score, written with its shard's completion.
CREATE TABLE analysis_results (
	report_id TEXT NOT NULL,
	shard INTEGER NOT NULL,
	candidate INTEGER NOT NULL,
	labels TEXT NOT NULL,
	score DOUBLE PRECISION NOT NULL,
	features TEXT NOT NULL,
	PRIMARY KEY (report_id, shard, candidate)
);
CREATE INDEX analysis_results_score ON analysis_results (report_id, score);
