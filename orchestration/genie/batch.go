package genie

import (
	"context"

	"github.com/gaffer-sre/gaffer/internal/platform/store"
)

// maxBatch is the most job updates one transaction writes.
const maxBatch = 256

// update is one job status change waiting for the batch writer.
type update struct {
	query string
	args  []any
	done  chan error
}

// update runs one UPDATE of a job this process runs. Updates from running
// jobs are written together, up to maxBatch a transaction, by one
// goroutine: with a single SQLite connection, a commit per update is
// what limits how many jobs a second a process can start and end.
func (s *Service) update(ctx context.Context, query string, args ...any) error {
	s.mu.Lock()
	batching := s.updates != nil
	s.mu.Unlock()
	if !batching {
		_, err := s.db.ExecContext(ctx, query, args...)
		return err
	}
	u := update{query: query, args: args, done: make(chan error, 1)}
	s.updates <- u
	return <-u.done
}

// writeBatches is the batch writer: it takes whatever updates are
// waiting (at least one) and writes them in one transaction, or, if
// that fails, one by one, so that one bad update fails alone.
func (s *Service) writeBatches(in <-chan update) {
	batch := make([]update, 0, maxBatch)
	for first := range in {
		batch = append(batch[:0], first)
	more:
		for len(batch) < maxBatch {
			select {
			case u, ok := <-in:
				if !ok {
					break more
				}
				batch = append(batch, u)
			default:
				break more
			}
		}
		ctx := context.Background()
		err := s.db.InTx(ctx, func(tx *store.Tx) error {
			for _, u := range batch {
				if _, err := tx.ExecContext(ctx, u.query, u.args...); err != nil {
					return err
				}
			}
			return nil
		})
		for _, u := range batch {
			if err != nil {
				_, uerr := s.db.ExecContext(ctx, u.query, u.args...)
				u.done <- uerr
				continue
			}
			u.done <- nil
		}
	}
}
