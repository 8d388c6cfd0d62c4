package store

import (
	"database/sql"
	"os"
	"time"
)

// SQLite's WAL is normally checkpointed by whichever commit pushes it past
// 1,000 pages: that commit copies the WAL into the database and fsyncs,
// and with the store's single connection every other statement waits
// behind it (the SSH CA's sign endpoint saw its p99 go from ~10 ms to
// 40-90 ms that way on a busy disk). Gaffer turns the automatic checkpoint
// off on the store's connection and checkpoints from a connection of its
// own instead, in PASSIVE mode, which never blocks readers or writers.
const (
	checkpointInterval = time.Second
	// walRestartBytes is the WAL size above which the checkpointer asks for
	// a RESTART checkpoint, which waits for writers briefly so that the WAL
	// can be reused from its start instead of growing.
	walRestartBytes = 64 << 20
)

type checkpointer struct {
	db   *sql.DB
	wal  string
	stop chan struct{}
	done chan struct{}
}

func startCheckpointer(path string) (*checkpointer, error) {
	db, err := sql.Open(cachedDriverName, "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	c := &checkpointer{db: db, wal: path + "-wal", stop: make(chan struct{}), done: make(chan struct{})}
	go c.loop()
	return c, nil
}

func (c *checkpointer) loop() {
	defer close(c.done)
	t := time.NewTicker(checkpointInterval)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			c.db.Exec("PRAGMA wal_checkpoint(PASSIVE)")
			return
		case <-t.C:
			mode := "PASSIVE"
			if fi, err := os.Stat(c.wal); err == nil && fi.Size() > walRestartBytes {
				mode = "RESTART"
			}
			// An error (SQLITE_BUSY while another process checkpoints) is
			// harmless: the next tick tries again.
			c.db.Exec("PRAGMA wal_checkpoint(" + mode + ")")
		}
	}
}

func (c *checkpointer) close() {
	close(c.stop)
	<-c.done
	c.db.Close()
}
