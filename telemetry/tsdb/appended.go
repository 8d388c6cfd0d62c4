package tsdb

// SamplesAppended counts the samples the store has taken since it
// opened, those replayed from its write-ahead log at open included: a
// counter whose rate is the store's ingest rate.
func (db *DB) SamplesAppended() int64 { return db.head.samples.Load() }
