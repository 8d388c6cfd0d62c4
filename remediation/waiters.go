package remediation

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

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
	known  map[string]bool // waiters already caught up with the stream
	reload chan struct{}
}

type waiter struct {
	exec, key string
	attempt   int
	since     time.Time
	cond      *expr
	vars      map[string]any
}

// maxCatchUp bounds the stored events a new waiter looks through.
const maxCatchUp = 100_000

func (wt waiter) id() string { return fmt.Sprintf("%s/%s/%d", wt.exec, wt.key, wt.attempt) }

func newWaiters(s *Service) *waiters {
	return &waiters{s: s, reload: make(chan struct{}, 1), known: map[string]bool{}}
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

func eventValue(ev *bus.Event) map[string]any {
	return map[string]any{"id": ev.ID, "source": ev.Source, "type": ev.Type, "subject": ev.Subject,
		"time": ev.Time.UTC().Format(time.RFC3339Nano), "data": decodeJSON(ev.Data)}
}

func (w *waiters) match(ev *bus.Event) {
	evm := eventValue(ev)
	w.mu.Lock()
	list := w.list
	w.mu.Unlock()
	for _, wt := range list {
		w.try(wt, evm)
	}
}

// try finishes the waiting step if the event matches it.
func (w *waiters) try(wt waiter, evm map[string]any) bool {
	vars := make(map[string]any, len(wt.vars)+1)
	for k, v := range wt.vars {
		vars[k] = v
	}
	vars["event"] = evm
	ok, err := wt.cond.evalBool(vars)
	if err != nil || !ok {
		return false
	}
	if err := w.s.engine.finish(context.Background(), wt.exec, wt.key, wt.attempt, succeeded(evm)); err != nil {
		w.s.log.Warn("finish wait_event step", "execution", wt.exec, "step", wt.key, "error", err)
	}
	w.changed()
	return true
}

// catchUp matches the events stored since the step began to wait, which
// the live subscription can have missed: those that came before this
// process knew of the waiter, or while no server ran. An event seen both
// ways finishes the step once.
func (w *waiters) catchUp(wt waiter) {
	if w.s.bus.Stream == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	since := wt.since
	cons, err := w.s.bus.Stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{FilterSubjects: []string{bus.SubjectPrefix + ">"},
		DeliverPolicy: jetstream.DeliverByStartTimePolicy, OptStartTime: &since, InactiveThreshold: 10 * time.Second})
	if err != nil {
		w.s.log.Warn("wait_event: read stored events", "execution", wt.exec, "error", err)
		return
	}
	for seen := 0; seen < maxCatchUp; {
		batch, err := cons.Fetch(500, jetstream.FetchMaxWait(200*time.Millisecond))
		if err != nil {
			return
		}
		got := 0
		for m := range batch.Messages() {
			got++
			if ev, err := bus.ParseEvent(m.Data()); err == nil && w.try(wt, eventValue(ev)) {
				return
			}
		}
		if got == 0 {
			return // caught up: the subscription has the rest
		}
		seen += got
	}
}

func (w *waiters) load(ctx context.Context) {
	rows, err := w.s.db.QueryContext(ctx, `SELECT s.execution_id, s.step_key, s.attempt, s.name, COALESCE(s.started_at, 0)
		FROM remediation_steps s JOIN remediation_executions e ON e.id = s.execution_id WHERE s.status = ? AND s.detail LIKE ?`,
		StepWaiting, `%"condition"%`)
	if err != nil {
		return
	}
	type ref struct {
		exec, key, name string
		attempt         int
		since           int64
	}
	var refs []ref
	for rows.Next() {
		var r ref
		rows.Scan(&r.exec, &r.key, &r.attempt, &r.name, &r.since)
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
		list = append(list, waiter{exec: r.exec, key: r.key, attempt: r.attempt, since: time.UnixMilli(r.since),
			cond: cs.condition, vars: baseVars(ex, steps)})
	}
	w.mu.Lock()
	w.list = list
	var fresh []waiter
	known := map[string]bool{}
	for _, wt := range list {
		if !w.known[wt.id()] {
			fresh = append(fresh, wt)
		}
		known[wt.id()] = true
	}
	w.known = known
	w.mu.Unlock()
	for _, wt := range fresh {
		go w.catchUp(wt)
	}
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
