package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/gaffer-sre/gaffer/internal/platform/bus"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
)

// The event list reads the SQL event index (written by the consumer: the
// stream sequence, id, source, type, subject and times of every event) for
// the type, source and time filters and the order, and JetStream for the
// events themselves. A CEL filter is evaluated on the events in index
// order, newest first, and stops after scanBudget events: when it stops
// early the answer says so (scan_limited) and its cursor continues from
// where the scan stopped, so a rare match costs the client more pages
// rather than the server an unbounded scan.

// scanBudget bounds the events one list request evaluates a CEL filter on.
const scanBudget = 5000

// StoredEvent is an event as the stream holds it.
type StoredEvent struct {
	// Seq is the event's sequence in the stream.
	Seq uint64 `json:"seq"`
	// Received is when the stream stored it.
	Received time.Time `json:"received"`
	// Event is the CloudEvent, in structured-mode JSON.
	Event json.RawMessage `json:"event"`
}

// EventList is a page of stored events, newest first.
type EventList struct {
	Items      []StoredEvent `json:"items"`
	NextCursor string        `json:"next_cursor,omitempty"`
	// Scanned counts the events the CEL filter was evaluated on.
	Scanned int `json:"scanned,omitempty"`
	// ScanLimited is true when the CEL filter stopped at the scan budget
	// before the page was full; next_cursor continues the scan.
	ScanLimited bool `json:"scan_limited,omitempty"`
}

// eventFilter selects events. Type and Source match exactly, or by prefix
// when they end in "*".
type eventFilter struct {
	Type, Source string
	Since, Until time.Time
	Expr         *Expression
}

// compileFilter compiles the CEL filter of a list or tail request.
func compileFilter(src string) (*Expression, error) {
	if strings.TrimSpace(src) == "" {
		return nil, nil
	}
	return compileExpression("filter", src, cel.BoolType)
}

func matchPattern(pattern, v string) bool {
	if p, ok := strings.CutSuffix(pattern, "*"); ok {
		return strings.HasPrefix(v, p)
	}
	return pattern == v
}

// matches applies the filter to an event.
func (f *eventFilter) matches(ev *bus.Event, received time.Time, act *activation) bool {
	if f.Type != "" && !matchPattern(f.Type, ev.Type) || f.Source != "" && !matchPattern(f.Source, ev.Source) {
		return false
	}
	t := ev.Time
	if t.IsZero() {
		t = received
	}
	if !f.Since.IsZero() && t.Before(f.Since) || !f.Until.IsZero() && !t.Before(f.Until) {
		return false
	}
	if f.Expr == nil {
		return true
	}
	act.reset(ev, received)
	out, err := f.Expr.prg.Eval(context.Background(), act)
	return err == nil && out == types.True
}

// sqlFilter turns the filter's indexed parts into a WHERE clause.
func (f *eventFilter) sqlFilter() (string, []any) {
	var where []string
	var args []any
	for _, c := range []struct{ col, pattern string }{{"type", f.Type}, {"source", f.Source}} {
		if c.pattern == "" {
			continue
		}
		if p, ok := strings.CutSuffix(c.pattern, "*"); ok {
			if p != "" {
				// Bytewise range: every string starting with p, no others.
				where = append(where, c.col+" >= ? AND "+c.col+" < ?")
				args = append(args, p, p+"\U0010FFFF")
			}
			continue
		}
		where = append(where, c.col+" = ?")
		args = append(args, c.pattern)
	}
	if !f.Since.IsZero() {
		where = append(where, "time_ms >= ?")
		args = append(args, f.Since.UnixMilli())
	}
	if !f.Until.IsZero() {
		where = append(where, "time_ms < ?")
		args = append(args, f.Until.UnixMilli())
	}
	return strings.Join(where, " AND "), args
}

type indexedSeq struct {
	seq      uint64
	received time.Time
}

// indexPage reads up to n index entries below before (0: from the newest).
func (s *Service) indexPage(ctx context.Context, f *eventFilter, before uint64, n int) ([]indexedSeq, error) {
	where, args := f.sqlFilter()
	if before > 0 {
		if where != "" {
			where += " AND "
		}
		where += "seq < ?"
		args = append(args, int64(before))
	}
	q := "SELECT seq, received_ms FROM event_index"
	if where != "" {
		q += " WHERE " + where
	}
	q += " ORDER BY seq DESC LIMIT " + strconv.Itoa(n)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("events: read event index: %w", err)
	}
	defer rows.Close()
	var out []indexedSeq
	for rows.Next() {
		var seq, received int64
		if err := rows.Scan(&seq, &received); err != nil {
			return nil, fmt.Errorf("events: read event index: %w", err)
		}
		out = append(out, indexedSeq{seq: uint64(seq), received: time.UnixMilli(received).UTC()})
	}
	return out, rows.Err()
}

// fetch reads one event from the stream; it reports false when the
// stream no longer holds it (retention) or it is not a CloudEvent.
func (s *Service) fetch(ctx context.Context, seq uint64) (*StoredEvent, *bus.Event, bool, error) {
	msg, err := s.bus.Stream.GetMsg(ctx, seq)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, nil, false, nil
	}
	if err != nil {
		return nil, nil, false, fmt.Errorf("events: read event %d from the stream: %w", seq, err)
	}
	ev, err := bus.ParseEvent(msg.Data)
	if err != nil {
		return nil, nil, false, nil
	}
	return &StoredEvent{Seq: seq, Received: msg.Time.UTC(), Event: msg.Data}, ev, true, nil
}

// listEvents returns a page of events, newest first.
func (s *Service) listEvents(ctx context.Context, f *eventFilter, before uint64, limit int) (*EventList, error) {
	out := &EventList{Items: []StoredEvent{}}
	chunk := limit + 1
	if f.Expr != nil {
		chunk = 200
	}
	var act activation
	cursor := before
	for {
		page, err := s.indexPage(ctx, f, cursor, chunk)
		if err != nil {
			return nil, err
		}
		for _, row := range page {
			if len(out.Items) == limit {
				// There is more: continue after the last item returned.
				out.NextCursor = httpapi.EncodeCursor(out.Items[len(out.Items)-1].Seq)
				return out, nil
			}
			cursor = row.seq
			se, ev, ok, err := s.fetch(ctx, row.seq)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
			if f.Expr != nil {
				out.Scanned++
				if !f.matches(ev, se.Received, &act) {
					if out.Scanned >= scanBudget {
						out.ScanLimited = true
						out.NextCursor = httpapi.EncodeCursor(cursor)
						return out, nil
					}
					continue
				}
			}
			out.Items = append(out.Items, *se)
		}
		if len(page) < chunk {
			return out, nil
		}
	}
}
