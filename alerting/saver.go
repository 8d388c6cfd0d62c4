package alerting

import (
	"context"
	"sync"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/store"
)

// saver writes alert changes and transitions in batches, off the
// evaluation path: ten thousand rules must not wait on the database.
type saver struct {
	s       *Service
	mu      sync.Mutex
	alerts  map[[2]string]*Alert // latest state by rule and fingerprint
	gone    map[[2]string]*Alert
	history []Transition
	kick    chan struct{}
}

func newSaver(s *Service) *saver {
	return &saver{s: s, alerts: map[[2]string]*Alert{}, gone: map[[2]string]*Alert{}, kick: make(chan struct{}, 1)}
}

// add queues changes.
func (w *saver) add(alerts, gone []*Alert, ts []Transition) {
	w.mu.Lock()
	for _, a := range alerts {
		k := [2]string{a.RuleID, a.Fingerprint}
		w.alerts[k] = a
		delete(w.gone, k)
	}
	for _, a := range gone {
		k := [2]string{a.RuleID, a.Fingerprint}
		w.gone[k] = a
		delete(w.alerts, k)
	}
	w.history = append(w.history, ts...)
	big := len(w.history) > 1000
	w.mu.Unlock()
	if big {
		select {
		case w.kick <- struct{}{}:
		default:
		}
	}
}

// loop writes every 200ms, or at once when much is queued.
func (w *saver) loop(stop <-chan struct{}) {
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		case <-w.kick:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := w.flush(ctx); err != nil {
			w.s.log.Error("save alerts; retrying", "error", err)
		}
		cancel()
	}
}

// flush writes what is queued in one transaction; on failure it is
// queued again.
func (w *saver) flush(ctx context.Context) error {
	w.mu.Lock()
	if len(w.alerts) == 0 && len(w.gone) == 0 && len(w.history) == 0 {
		w.mu.Unlock()
		return nil
	}
	alerts, gone, hist := w.alerts, w.gone, w.history
	w.alerts, w.gone, w.history = map[[2]string]*Alert{}, map[[2]string]*Alert{}, nil
	w.mu.Unlock()
	as := make([]*Alert, 0, len(alerts))
	for _, a := range alerts {
		as = append(as, a)
	}
	gs := make([]*Alert, 0, len(gone))
	for _, a := range gone {
		gs = append(gs, a)
	}
	err := w.s.st.InTx(ctx, func(tx *store.Tx) error { return saveChanges(ctx, tx, as, gs, hist) })
	if err != nil {
		// Queue them again, unless newer changes replaced them.
		w.mu.Lock()
		for k, a := range alerts {
			if _, ok := w.alerts[k]; !ok {
				if _, ok := w.gone[k]; !ok {
					w.alerts[k] = a
				}
			}
		}
		for k, a := range gone {
			if _, ok := w.alerts[k]; !ok {
				w.gone[k] = a
			}
		}
		w.history = append(hist, w.history...)
		w.mu.Unlock()
	}
	return err
}
