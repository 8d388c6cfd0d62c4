-- Saved Atlas graphs: a name, the expression and the graph's other
-- parameters (a URL query string without q).
CREATE TABLE atlas_graphs (
	id {{autoid}},
	name TEXT NOT NULL UNIQUE,
	query TEXT NOT NULL,
	params TEXT NOT NULL,
	created_by TEXT NOT NULL,
	created_at {{bigint}} NOT NULL
);

-- Dashboards: ordered lists of saved graphs drawn over one time range.
CREATE TABLE atlas_dashboards (
	id {{autoid}},
	name TEXT NOT NULL UNIQUE,
	range_start TEXT NOT NULL,
	range_end TEXT NOT NULL,
	created_by TEXT NOT NULL,
	created_at {{bigint}} NOT NULL
);

CREATE TABLE atlas_dashboard_graphs (
	dashboard_id {{bigint}} NOT NULL REFERENCES atlas_dashboards(id) ON DELETE CASCADE,
	position INTEGER NOT NULL,
	graph_id {{bigint}} NOT NULL REFERENCES atlas_graphs(id) ON DELETE CASCADE,
	PRIMARY KEY (dashboard_id, position)
);
