package stack

import (
	"context"
	"errors"
)

// TieredSource reads from the memory tier what it answers — ranges
// within its window at whole-minute steps, of queries admitted to it —
// and from Store the rest, as Atlas reads recent data from memory and
// older data from its long-term store. A fetch the tier could answer but
// for its query not being admitted reads Store and asks the tier to admit
// the query, so that the next one reads memory. Tag queries go to Store.
type TieredSource struct {
	Tier  *Tier // nil reads everything from Store
	Store Source
}

// Fetch implements Source.
func (s TieredSource) Fetch(ctx context.Context, q Query, start, end, step int64, fn func(map[string]string, []float64) error) error {
	if t := s.Tier; t != nil && t.Covers(start, end, step) {
		err := t.Fetch(ctx, q, start, end, step, fn)
		if !errors.Is(err, ErrNotInTier) {
			if err == nil {
				t.fromTier.Add(1)
			}
			return err
		}
		t.fromStore.Add(1)
		t.Request(q)
	}
	return s.Store.Fetch(ctx, q, start, end, step, fn)
}

// TagKeys implements Source.
func (s TieredSource) TagKeys(ctx context.Context, q Query, start, end int64) ([]string, error) {
	return s.Store.TagKeys(ctx, q, start, end)
}

// TagValues implements Source.
func (s TieredSource) TagValues(ctx context.Context, key string, q Query, start, end int64) ([]string, error) {
	return s.Store.TagValues(ctx, key, q, start, end)
}
