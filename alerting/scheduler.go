package alerting

import (
	"container/heap"
	"hash/fnv"
	"maps"
	"sync"
	"time"
)

// entry is one rule in the scheduler.
type entry struct {
	mu    sync.Mutex
	rule  *StoredRule
	state *ruleState
	// next is the grid point to evaluate next; due is when (next plus
	// the rule's offset, which spreads rules over their interval).
	next, due time.Time
	index     int
	running   bool
	removed   bool
	health    Health
	// tried marks alerts whose analysis was started (or failed to).
	tried map[string]bool
}

// Health is how a rule's evaluations go.
type Health struct {
	LastEval     time.Time     `json:"last_evaluation"`
	Duration     time.Duration `json:"duration_ns"`
	Evaluations  int64         `json:"evaluations"`
	Missed       int64         `json:"missed"`
	Error        string        `json:"error,omitempty"`
	ErrorSince   *time.Time    `json:"error_since,omitempty"`
	LastLag      time.Duration `json:"lag_ns"`
	storedErrSet bool
}

// entries is a heap of entries by due time.
type entries []*entry

func (h entries) Len() int           { return len(h) }
func (h entries) Less(i, j int) bool { return h[i].due.Before(h[j].due) }
func (h entries) Swap(i, j int)      { h[i], h[j] = h[j], h[i]; h[i].index = i; h[j].index = j }
func (h *entries) Push(x any)        { e := x.(*entry); e.index = len(*h); *h = append(*h, e) }
func (h *entries) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	e.index = -1
	return e
}

// scheduler evaluates every rule at each multiple of its interval.
type scheduler struct {
	s      *Service
	mu     sync.Mutex
	byID   map[string]*entry
	queue  entries
	wake   chan struct{}
	queued chan *entry
	lags   *lagStats
}

func newScheduler(s *Service) *scheduler {
	return &scheduler{s: s, byID: map[string]*entry{}, wake: make(chan struct{}, 1), queued: make(chan *entry), lags: newLagStats()}
}

// offset spreads rules over their interval by a hash of their ID.
func offset(id string, every time.Duration) time.Duration {
	h := fnv.New64a()
	h.Write([]byte(id))
	return time.Duration(h.Sum64() % uint64(every))
}

// put adds or replaces a rule, keeping the alerts of a rule replaced (or
// restoring stored ones for a new entry).
func (sc *scheduler) put(r *StoredRule, stored []*Alert, storedErr string) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	e, ok := sc.byID[r.ID]
	if ok {
		e.mu.Lock()
		e.rule = r
		e.mu.Unlock()
		if e.index >= 0 {
			heap.Remove(&sc.queue, e.index)
		}
	} else {
		e = &entry{rule: r, state: newRuleState(), index: -1, tried: map[string]bool{}}
		for _, a := range stored {
			e.state.alerts[a.Fingerprint] = a
			if a.ReportID != "" {
				e.tried[a.Fingerprint] = true
			}
		}
		if storedErr != "" {
			e.health.Error, e.health.storedErrSet = storedErr, true
		}
		sc.byID[r.ID] = e
	}
	if !r.Enabled() {
		return
	}
	now := sc.s.now()
	off := offset(r.ID, r.every)
	e.next = alignGrid(now.Add(-off), r.every).Add(r.every)
	e.due = e.next.Add(off)
	if !e.running {
		heap.Push(&sc.queue, e)
	}
	sc.poke()
}

// alignGrid rounds t down to a multiple of every.
func alignGrid(t time.Time, every time.Duration) time.Time {
	ms := every.Milliseconds()
	return time.UnixMilli(t.UnixMilli() / ms * ms).UTC()
}

// remove drops a rule (its alerts are forgotten; the store deleted
// them with it).
func (sc *scheduler) remove(id string) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	e, ok := sc.byID[id]
	if !ok {
		return
	}
	delete(sc.byID, id)
	e.mu.Lock()
	e.removed = true
	e.mu.Unlock()
	if e.index >= 0 {
		heap.Remove(&sc.queue, e.index)
	}
	sc.s.disp.forget(id)
}

func (sc *scheduler) poke() {
	select {
	case sc.wake <- struct{}{}:
	default:
	}
}

// version returns the version of the scheduled rule.
func (sc *scheduler) version(id string) (int64, bool) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	e, ok := sc.byID[id]
	if !ok {
		return 0, false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.rule.Version, true
}

func (sc *scheduler) ids() []string {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	out := make([]string, 0, len(sc.byID))
	for id := range sc.byID {
		out = append(out, id)
	}
	return out
}

// get returns a rule's entry.
func (sc *scheduler) get(id string) (*entry, bool) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	e, ok := sc.byID[id]
	return e, ok
}

// loop hands due rules to the workers.
func (sc *scheduler) loop(stop <-chan struct{}) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		sc.mu.Lock()
		var next *entry
		wait := time.Hour
		if len(sc.queue) > 0 {
			if wait = sc.queue[0].due.Sub(sc.s.now()); wait <= 0 {
				next = heap.Pop(&sc.queue).(*entry)
				next.running = true
			}
		}
		sc.mu.Unlock()
		if next != nil {
			select {
			case sc.queued <- next:
			case <-stop:
				return
			}
			continue
		}
		timer.Reset(wait)
		select {
		case <-stop:
			return
		case <-sc.wake:
		case <-timer.C:
		}
	}
}

// work evaluates the rules the loop hands it.
func (sc *scheduler) work(stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		case e := <-sc.queued:
			sc.s.evaluate(e)
			sc.requeue(e)
		}
	}
}

// requeue schedules a rule's next evaluation, skipping the grid points
// it fell too far behind to catch up with (as Prometheus does).
func (sc *scheduler) requeue(e *entry) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	e.running = false
	if e.removed || !e.rule.Enabled() || e.index >= 0 {
		return
	}
	every := e.rule.every
	off := offset(e.rule.ID, every)
	e.next = e.next.Add(every)
	if behind := sc.s.now().Sub(e.next.Add(off)); behind > every {
		skip := behind / every
		e.health.Missed += int64(skip)
		e.next = e.next.Add(skip * every)
	}
	e.due = e.next.Add(off)
	heap.Push(&sc.queue, e)
	sc.poke()
}

// snapshot returns a rule's alerts and health.
func (e *entry) snapshot() ([]*Alert, Health, *StoredRule) {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]*Alert, 0, len(e.state.alerts))
	for _, a := range e.state.alerts {
		c := *a
		c.Labels, c.Annotations = maps.Clone(a.Labels), maps.Clone(a.Annotations)
		out = append(out, &c)
	}
	return out, e.health, e.rule
}

// evalTimeout bounds one evaluation.
func evalTimeout(every time.Duration) time.Duration { return max(every, 10*time.Second) }
