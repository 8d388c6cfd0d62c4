package remediation

import (
	"context"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/gaffer-sre/gaffer/internal/platform/bus"
)

// waiters matches events against the wait_event steps that are waiting.
// The list lives in the database; each process keeps a copy, reloaded when
// a step starts waiting here and every second for other processes' steps.
type waiters struct {
	s   *Service
	sub *nats.Subscription

	mu     sync.Mutex
	list   []waiter
	reload chan struct{}
}

type waiter struct {
	exec, key string
	attempt   int
	cond      *expr
	vars      map[string]any
}

func newWaiters(s *Service) *waiters {
	return &waiters{s: s, reload: make(chan struct{}, 1)}
}

func (w *waiters) changed() {
	select {
	case w.reload <- struct{}{}:
	default:
	}
}

func (w *waiters) start() error {
	sub, err := w.s.bus.Conn.Subscribe(bus.SubjectPrefix+">", func(m *nats.Msg) {
		w.mu.Lock()
		n := len(w.list)
		w.mu.Unlock()
		if n == 0 {
			return
		}
		ev, err := bus.ParseEvent(m.Data)
		if err != nil {
			return
		}
		w.match(ev)
	})
	w.sub = sub
	return err
}

func (w *waiters) stopSub() {
	if w.sub != nil {
		w.sub.Unsubscribe()
	}
}

func (w *waiters) match(ev *bus.Event) {
	evm := map[string]any{"id": ev.ID, "source": ev.Source, "type": ev.Type, "subject": ev.Subject,
		"time": ev.Time.UTC().Format(time.RFC3339Nano), "data": decodeJSON(ev.Data)}
	w.mu.Lock()
	list := w.list
	w.mu.Unlock()
	for _, wt := range list {
		vars := make(map[string]any, len(wt.vars)+1)
		for k, v := range wt.vars {
			vars[k] = v
		}
		vars["event"] = evm
		ok, err := wt.cond.evalBool(vars)
		if err != nil || !ok {
			continue
		}
		if err := w.s.engine.finish(context.Background(), wt.exec, wt.key, wt.attempt, succeeded(evm)); err != nil {
			w.s.log.Warn("finish wait_event step", "execution", wt.exec, "step", wt.key, "error", err)
		}
		w.changed()
	}
}

func (w *waiters) load(ctx context.Context) {
	rows, err := w.s.db.QueryContext(ctx, `SELECT s.execution_id, s.step_key, s.attempt, s.name FROM remediation_steps s
		JOIN remediation_executions e ON e.id = s.execution_id WHERE s.status = ? AND s.detail LIKE ?`,
		StepWaiting, `%"condition"%`)
	if err != nil {
		return
	}
	type ref struct {
		exec, key, name string
		attempt         int
	}
	var refs []ref
	for rows.Next() {
		var r ref
		rows.Scan(&r.exec, &r.key, &r.attempt, &r.name)
		refs = append(refs, r)
	}
	rows.Close()
	var list []waiter
	for _, r := range refs {
		ex, err := loadExec(ctx, w.s.db, r.exec)
		if err != nil {
			continue
		}
		c, err := w.s.runbooks.compiled(ctx, ex.Runbook, ex.Version)
		if err != nil {
			continue
		}
		cs := c.step(r.name)
		if cs == nil || cs.condition == nil {
			continue
		}
		steps, err := loadSteps(ctx, w.s.db, r.exec, "", true)
		if err != nil {
			continue
		}
		list = append(list, waiter{exec: r.exec, key: r.key, attempt: r.attempt, cond: cs.condition, vars: baseVars(ex, steps)})
	}
	w.mu.Lock()
	w.list = list
	w.mu.Unlock()
}

func (w *waiters) loop(stop <-chan struct{}) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	ctx := context.Background()
	w.load(ctx)
	for {
		select {
		case <-stop:
			return
		case <-w.reload:
		case <-t.C:
		}
		w.load(ctx)
	}
}
