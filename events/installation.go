package events

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/store"
)

// installation identifies the database the events system runs on. Its ID
// names the durable consumer, so every process sharing the database shares
// one consumer (each event is processed by one of them), while two Gaffer
// installations on one NATS cluster each process every event. The consumer
// starts at the installation's creation time: events already in the stream
// from before are not acted on.
type installation struct {
	ID        string
	CreatedAt time.Time
}

func loadInstallation(ctx context.Context, db *store.Store) (installation, error) {
	var inst installation
	var created int64
	read := func(q queryRower) error {
		return q.QueryRowContext(ctx, "SELECT id, created_at FROM event_installation").Scan(&inst.ID, &created)
	}
	err := read(db)
	if errors.Is(err, sql.ErrNoRows) {
		var b [6]byte
		rand.Read(b[:])
		_, err = db.ExecContext(ctx, "INSERT INTO event_installation (one, id, created_at) VALUES (1, ?, ?)",
			hex.EncodeToString(b[:]), time.Now().UnixMilli())
		if err == nil || store.IsUniqueViolation(err) {
			// Created here, or by another process just now.
			err = read(db)
		}
	}
	if err != nil {
		return inst, fmt.Errorf("events: read installation: %w", err)
	}
	inst.CreatedAt = time.UnixMilli(created).UTC()
	return inst, nil
}

// consumerName is the durable consumer of the installation.
func (i installation) consumerName() string { return "gaffer-events-" + i.ID }

// ConsumerName is the durable consumer this installation reads the event
// stream with.
func (s *Service) ConsumerName() string { return s.install.consumerName() }
