package events

import (
	"context"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/gaffer-sre/gaffer/telemetry/spectator"
)

// ruleSet holds the compiled rules of this process and the Matcher over
// the enabled ones. Reload recompiles only rules whose version changed and
// swaps the Matcher atomically, so matching never waits for a reload.
type ruleSet struct {
	store *ruleStore
	log   *slog.Logger
	// exceeded is the self-metric every rule's stats count CEL budget
	// errors in (nil: none).
	exceeded *spectator.Counter

	mu         sync.Mutex
	compiled   map[string]*compiledRule // by rule ID
	stats      map[string]*ruleStats    // by rule ID, kept across edits
	broken     map[string]string        // rule ID -> why it does not compile
	generation int64

	matcher atomic.Pointer[Matcher]
}

func newRuleSet(s *ruleStore, log *slog.Logger, exceeded *spectator.Counter) *ruleSet {
	rs := &ruleSet{store: s, log: log, exceeded: exceeded, compiled: map[string]*compiledRule{},
		stats: map[string]*ruleStats{}, broken: map[string]string{}}
	rs.matcher.Store(newMatcher(nil))
	return rs
}

// current returns the Matcher to use for the next event.
func (rs *ruleSet) current() *Matcher { return rs.matcher.Load() }

// reloadIfChanged reloads when the stored generation moved.
func (rs *ruleSet) reloadIfChanged(ctx context.Context) error {
	g, err := rs.store.generation(ctx)
	if err != nil {
		return err
	}
	rs.mu.Lock()
	same := g == rs.generation
	rs.mu.Unlock()
	if same {
		return nil
	}
	return rs.reload(ctx)
}

// reload reads every rule and rebuilds the Matcher.
func (rs *ruleSet) reload(ctx context.Context) error {
	g, err := rs.store.generation(ctx)
	if err != nil {
		return err
	}
	rules, err := rs.store.list(ctx)
	if err != nil {
		return err
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	next := make(map[string]*compiledRule, len(rules))
	broken := map[string]string{}
	var enabled []*compiledRule
	for _, r := range rules {
		cr := rs.compiled[r.ID]
		if cr == nil || cr.rule.Version != r.Version {
			// Job kinds are checked when a rule is saved; a process that
			// lacks a kind dead-letters the job action instead.
			if cr, err = compileRule(r, nil); err != nil {
				broken[r.ID] = err.Error()
				rs.log.Error("event rule does not compile; it is skipped", "rule", r.ID, "name", r.Name, "error", err)
				continue
			}
		}
		if rs.stats[r.ID] == nil {
			rs.stats[r.ID] = &ruleStats{exceeded: rs.exceeded}
		}
		cr.stats = rs.stats[r.ID]
		next[r.ID] = cr
		if r.Enabled {
			enabled = append(enabled, cr)
		}
	}
	for id := range rs.stats {
		if next[id] == nil && broken[id] == "" {
			delete(rs.stats, id)
		}
	}
	sort.Slice(enabled, func(i, j int) bool { return enabled[i].rule.Name < enabled[j].rule.Name })
	rs.compiled, rs.broken, rs.generation = next, broken, g
	rs.matcher.Store(newMatcher(enabled))
	return nil
}

// decorate adds what this process knows about a stored rule: how the
// index files it and its statistics.
func (rs *ruleSet) decorate(r *Rule) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if why, ok := rs.broken[r.ID]; ok {
		r.Index = "not running: " + why
		return
	}
	cr := rs.compiled[r.ID]
	if cr == nil || cr.rule.Version != r.Version {
		return
	}
	if r.Enabled {
		r.Index = describeIndex(cr.indexedBy)
	}
	r.Stats = cr.stats.snapshot()
}

// byID returns the compiled rule with an ID, if this process has it.
func (rs *ruleSet) byID(id string) *compiledRule {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return rs.compiled[id]
}
