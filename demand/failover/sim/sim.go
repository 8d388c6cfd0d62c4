// Package sim is the simulator provider: a fleet's infrastructure in
// simulated time, for exercises ("Chaos Kong" drills) and for trying
// plans. Instances take a drawn time to provision and start (cold ones
// serve less until warmed up under load), dark instances take seconds to
// admit, steering changes propagate over the layer's time (edge proxies in
// seconds, DNS in minutes), launches past a region's instance limit fail,
// and calls can be made to fail or be slow. The defaults are Netflix's
// published breakdown of a region evacuation before Nimble (see
// fleet.Simulator).
//
// Every draw depends on the seed and on what it is drawn for, never on the
// order of calls, so a run is reproducible and a call repeated after a
// crash finds the world as it left it. The world is saved after every
// change through a Store.
package sim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/gaffer-sre/gaffer/demand/failover/fleet"
	"github.com/gaffer-sre/gaffer/demand/failover/provider"
)

// DemandFunc returns a geography's demand (units/s) at t.
type DemandFunc func(geo string, t time.Time) float64

// Store keeps worlds between calls and across restarts.
type Store interface {
	// LoadWorld returns the saved state under key, or nil if none.
	LoadWorld(ctx context.Context, key string) ([]byte, error)
	SaveWorld(ctx context.Context, key string, state []byte) error
}

// MemStore keeps worlds in memory: for tests and one-off simulations.
type MemStore struct {
	mu     sync.Mutex
	worlds map[string][]byte
}

// LoadWorld implements Store.
func (m *MemStore) LoadWorld(_ context.Context, key string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.worlds[key], nil
}

// SaveWorld implements Store.
func (m *MemStore) SaveWorld(_ context.Context, key string, state []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.worlds == nil {
		m.worlds = map[string][]byte{}
	}
	m.worlds[key] = append([]byte(nil), state...)
	return nil
}

// ErrTransient is the error injected by CallErrorRate.
var ErrTransient = errors.New("simulated transient error")

// Simulator implements provider.Provider over a World.
type Simulator struct {
	mu     sync.Mutex
	key    string
	w      *World
	demand DemandFunc
	store  Store
	groups map[string][]string // "service\x00region" → clusters, sorted
}

var _ provider.Provider = (*Simulator)(nil)

// Open returns the simulator of the world saved under key, creating it
// from fleet f (at its current sizes) the first time.
func Open(ctx context.Context, store Store, key string, f *fleet.Fleet, demand DemandFunc) (*Simulator, error) {
	raw, err := store.LoadWorld(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("simulator %s: load: %w", key, err)
	}
	var w *World
	if raw == nil {
		w = NewWorld(f)
	} else {
		w = &World{}
		if err := json.Unmarshal(raw, w); err != nil {
			return nil, fmt.Errorf("simulator %s: decode saved world: %w", key, err)
		}
		if w.Grow == nil {
			w.Grow = map[string]int64{}
		}
		if w.Calls == nil {
			w.Calls = map[string]int{}
		}
	}
	s := &Simulator{key: key, w: w, demand: demand, store: store, groups: map[string][]string{}}
	for name, c := range w.Clusters {
		k := c.Service + "\x00" + c.Region
		s.groups[k] = append(s.groups[k], name)
	}
	for _, names := range s.groups {
		sort.Strings(names)
	}
	if raw == nil {
		if err := s.save(ctx); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Simulated implements provider.Provider.
func (s *Simulator) Simulated() bool { return true }

// Params returns the parameters in force, defaults filled in.
func (s *Simulator) Params() fleet.Simulator {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Params
}

// Calls returns how many changing calls of each kind were made.
func (s *Simulator) Calls() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for k, v := range s.w.Calls {
		out[k] = v
	}
	return out
}

func (s *Simulator) save(ctx context.Context) error {
	b, err := json.Marshal(s.w)
	if err != nil {
		return fmt.Errorf("simulator %s: encode: %w", s.key, err)
	}
	if err := s.store.SaveWorld(ctx, s.key, b); err != nil {
		return fmt.Errorf("simulator %s: save: %w", s.key, err)
	}
	return nil
}

// begin applies the injected faults of a call and returns when its
// effect starts: a slow call takes effect SlowCall late.
func (s *Simulator) begin(kind string, c provider.Call, slow bool) (int64, error) {
	p := s.w.Params
	if p.CallErrorRate > 0 && Draw(p.Seed, c.Key, 'e', len(kind)) < p.CallErrorRate {
		return 0, fmt.Errorf("%s %s: %w (throttled)", kind, c.Key, ErrTransient)
	}
	at := c.At.UnixMilli()
	if slow && p.SlowCallRate > 0 && Draw(p.Seed, c.Key, 'w', len(kind)) < p.SlowCallRate {
		at += p.SlowCall.D().Milliseconds()
	}
	s.w.Calls[kind]++
	return at, nil
}

func (s *Simulator) cluster(name string) (*Cluster, error) {
	c, ok := s.w.Clusters[name]
	if !ok {
		return nil, provider.Permanent(fmt.Errorf("simulator: no cluster %q", name))
	}
	return c, nil
}

// regionTotal counts every instance of a region.
func (s *Simulator) regionTotal(region string) int {
	n := 0
	for _, c := range s.w.Clusters {
		if c.Region == region {
			n += c.total()
		}
	}
	return n
}

// room returns how many of n new instances fit in the region's limit.
func (s *Simulator) room(region string, n int, used map[string]int) int {
	limit := s.w.Params.RegionInstanceLimit
	if limit <= 0 {
		return n
	}
	if _, ok := used[region]; !ok {
		used[region] = s.regionTotal(region)
	}
	k := max(0, min(n, limit-used[region]))
	used[region] += k
	return k
}
