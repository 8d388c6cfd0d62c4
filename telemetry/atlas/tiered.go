package atlas

import "context"

// TieredSource reads from the memory tier what it covers — once warm,
// ranges within its window at whole-minute steps — and from Store the
// rest, as Atlas reads recent data from memory and older data from its
// long-term store. Tag queries go to Store.
type TieredSource struct {
	Tier  *Tier // nil reads everything from Store
	Store Source
}

// Fetch implements Source.
func (s TieredSource) Fetch(ctx context.Context, q Query, start, end, step int64, fn func(map[string]string, []float64) error) error {
	if s.Tier != nil && s.Tier.Covers(start, end, step) {
		return s.Tier.Fetch(ctx, q, start, end, step, fn)
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
