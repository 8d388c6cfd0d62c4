package events

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/gaffer-sre/gaffer/internal/platform/bus"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
)

// tailBuffer is how many events a slow tail client may fall behind by
// before events are dropped for it (and it is told how many).
const tailBuffer = 1024

// handleTail streams new events as server-sent events. Each message is
//
//	id: <event id>
//	event: cloudevent
//	data: <structured-mode CloudEvent>
//
// A client too slow to keep up gets "event: dropped" with the count of
// events it missed; the tail is a view, not a delivery guarantee (rules
// are). Comments keep idle connections open through proxies.
func (s *Service) handleTail(w http.ResponseWriter, r *http.Request) error {
	f, err := filterFrom(r, s.now(), false)
	if err != nil {
		return err
	}
	rc := http.NewResponseController(w)
	ch := make(chan *nats.Msg, tailBuffer)
	sub, err := s.bus.Conn.ChanSubscribe(bus.SubjectPrefix+">", ch)
	if err != nil {
		return httpapi.Unavailable("event bus: %v", err)
	}
	defer sub.Unsubscribe()
	sub.SetPendingLimits(tailBuffer, 64<<20)

	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriter(w)
	flush := func() error {
		if err := bw.Flush(); err != nil {
			return err
		}
		return rc.Flush()
	}
	fmt.Fprint(bw, ": tailing events\n\n")
	if err := flush(); err != nil {
		return nil
	}
	keepAlive := time.NewTicker(15 * time.Second)
	defer keepAlive.Stop()
	var act activation
	var line bytes.Buffer
	var reported int
	for {
		select {
		case <-r.Context().Done():
			return nil
		case <-s.stopping:
			return nil // the server is shutting down: clients reconnect elsewhere
		case <-keepAlive.C:
			fmt.Fprint(bw, ": keep-alive\n\n")
		case msg := <-ch:
			ev, err := bus.ParseEvent(msg.Data)
			if err != nil || !f.matches(ev, time.Now(), &act) {
				continue
			}
			line.Reset()
			if err := json.Compact(&line, msg.Data); err != nil {
				continue
			}
			fmt.Fprintf(bw, "id: %s\nevent: cloudevent\ndata: %s\n\n", sseLine(ev.ID), line.Bytes())
			if len(ch) > 0 {
				continue // flush once the burst is written
			}
		}
		if dropped, err := sub.Dropped(); err == nil && dropped > reported {
			fmt.Fprintf(bw, "event: dropped\ndata: {\"dropped\":%d}\n\n", dropped-reported)
			reported = dropped
		}
		if err := flush(); err != nil {
			return nil // the client went away
		}
	}
}

// sseLine makes a value safe for one SSE field line.
func sseLine(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' || s[i] == '\r' {
			b := []byte(s)
			for j := range b {
				if b[j] == '\n' || b[j] == '\r' {
					b[j] = ' '
				}
			}
			return string(b)
		}
	}
	return s
}
