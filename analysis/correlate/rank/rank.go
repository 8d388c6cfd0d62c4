package rank

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"sort"
	"sync"
)

// Result is one ranked candidate: its position in the slice given to
// Rank and its features.
type Result struct {
	Index int `json:"index"`
	Features
}

// Rank scores every candidate against t with up to workers goroutines (0:
// one per CPU) and returns them best first (ties by index). It stops
// early, returning ctx's error, when ctx is done.
func Rank(ctx context.Context, t *Target, candidates [][]float64, workers int) ([]Result, error) {
	out := make([]Result, len(candidates))
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = max(1, min(workers, len(candidates)/64))
	const chunk = 256
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		next   int
		failed error
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			i := -1
			defer func() {
				// A bug scoring one candidate fails the ranking, with the
				// candidate named, instead of the whole process.
				if r := recover(); r != nil {
					mu.Lock()
					failed = fmt.Errorf("rank: candidate %d: panic: %v\n%s", i, r, debug.Stack())
					next = len(candidates)
					mu.Unlock()
				}
			}()
			s := t.NewScorer()
			for ctx.Err() == nil {
				mu.Lock()
				from := next
				next += chunk
				mu.Unlock()
				if from >= len(candidates) {
					return
				}
				for i = from; i < min(from+chunk, len(candidates)); i++ {
					out[i] = Result{Index: i, Features: s.scoreFinite(candidates[i])}
				}
			}
		}()
	}
	wg.Wait()
	if failed != nil {
		return nil, failed
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	SortResults(out, nil)
	return out, nil
}

// SortResults orders results best first. Ties are broken by less on the
// indices when it is given (the analysis system passes the candidates'
// label strings, so that shards merge into the same order), else by
// index.
func SortResults(rs []Result, less func(i, j int) bool) {
	sort.SliceStable(rs, func(a, b int) bool {
		if rs[a].Score != rs[b].Score {
			return rs[a].Score > rs[b].Score
		}
		if less != nil {
			return less(rs[a].Index, rs[b].Index)
		}
		return rs[a].Index < rs[b].Index
	})
}
