package remediation

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/store"
)

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

// maxLogBytes bounds the output kept per step (the agent caps it too).
const maxLogBytes = 16 << 20

// logWriter batches output chunks into the database, so that many agents
// streaming at once cost one transaction per 50 ms.
type logWriter struct {
	db  *store.Store
	log *slog.Logger
	// now is the service's clock, for each chunk's time.
	now func() time.Time

	mu      sync.Mutex
	pending []logChunk
	sizes   map[string]int
}

type logChunk struct {
	exec, key, stream string
	data              []byte
	at                int64
}

func newLogWriter(db *store.Store, log *slog.Logger, now func() time.Time) *logWriter {
	return &logWriter{db: db, log: log, now: now, sizes: map[string]int{}}
}

func (w *logWriter) add(execID, key, stream string, data []byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	k := execID + "/" + key
	if w.sizes[k] > maxLogBytes {
		return
	}
	w.sizes[k] += len(data)
	w.pending = append(w.pending, logChunk{exec: execID, key: key, stream: stream, data: data, at: w.now().UnixMilli()})
}

// flushRun writes what is buffered, before a step's result is recorded.
func (w *logWriter) flushRun(execID, key string) {
	w.flush()
	w.mu.Lock()
	delete(w.sizes, execID+"/"+key)
	w.mu.Unlock()
}

func (w *logWriter) flush() {
	w.mu.Lock()
	batch := w.pending
	w.pending = nil
	w.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	ctx := context.Background()
	err := w.db.InTx(ctx, func(tx *store.Tx) error {
		for _, c := range batch {
			if _, err := tx.ExecContext(ctx, `INSERT INTO remediation_logs (execution_id, step_key, stream, data, at) VALUES (?, ?, ?, ?, ?)`,
				c.exec, c.key, c.stream, c.data, c.at); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		w.log.Warn("store step output", "chunks", len(batch), "error", err)
	}
}

func (w *logWriter) loop(stop <-chan struct{}) {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-stop:
			w.flush()
			return
		case <-t.C:
			w.flush()
		}
	}
}

// LogLine is a chunk of a step's output.
type LogLine struct {
	ID     int64     `json:"id"`
	Step   string    `json:"step"`
	Stream string    `json:"stream"`
	Data   string    `json:"data"`
	At     time.Time `json:"at"`
}

func readLogs(ctx context.Context, db *store.Store, execID string, after int64, limit int) ([]LogLine, error) {
	rows, err := db.QueryContext(ctx, `SELECT id, step_key, stream, data, at FROM remediation_logs WHERE execution_id = ? AND id > ?
		ORDER BY id LIMIT ?`, execID, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []LogLine{}
	for rows.Next() {
		var l LogLine
		var data []byte
		var at int64
		if err := rows.Scan(&l.ID, &l.Step, &l.Stream, &data, &at); err != nil {
			return nil, err
		}
		l.Data, l.At = string(data), fromMS(at)
		out = append(out, l)
	}
	return out, rows.Err()
}
