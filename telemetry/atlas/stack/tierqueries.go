package stack

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// TierQuery is a query admitted to a tier and when a fetch last read it
// from the tier, for keeping the tier's contents across restarts.
type TierQuery struct {
	// Query is the query in the stack language, e.g. "name,sps,:eq".
	Query string `json:"query"`
	// Used is when a fetch last read it (ms since the epoch).
	Used int64 `json:"used"`
}

// AdmittedQueries returns the queries admitted to the tier, by text.
func (t *Tier) AdmittedQueries() []TierQuery {
	t.mu.RLock()
	out := make([]TierQuery, 0, len(t.queries))
	for key, r := range t.queries {
		out = append(out, TierQuery{Query: key, Used: r.used.Load()})
	}
	t.mu.RUnlock()
	slices.SortFunc(out, func(a, b TierQuery) int { return strings.Compare(a.Query, b.Query) })
	return out
}

// Readmit asks the tier to admit again the queries a previous process
// held (AdmittedQueries), leaving out those no fetch has read for the
// tier's idle time; they are admitted in the background, as Request does.
// It returns how many it asked for, and an error naming the first query
// that is not a query of the stack language (the others are still asked
// for).
func (t *Tier) Readmit(qs []TierQuery) (int, error) {
	since := t.now().Add(-time.Duration(t.idle) * time.Millisecond).UnixMilli()
	n := 0
	var bad error
	for _, tq := range qs {
		if tq.Used < since {
			continue
		}
		stack, err := Interpret(tq.Query, nil, time.UTC)
		var q Query
		if err == nil && len(stack) == 1 {
			q, _ = stack[0].(Query)
		}
		if q == nil {
			if bad == nil {
				bad = fmt.Errorf("tier query %q: not a query", tq.Query)
			}
			continue
		}
		t.Request(q)
		n++
	}
	return n, bad
}
