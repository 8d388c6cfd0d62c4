package failover

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gaffer-sre/gaffer/demand/failover/fleet"
	"github.com/gaffer-sre/gaffer/demand/failover/provider"
	"github.com/gaffer-sre/gaffer/demand/failover/sim"
	"github.com/gaffer-sre/gaffer/demand/failover/webhook"
	"github.com/gaffer-sre/gaffer/internal/platform/store"
)

// worldStore keeps simulated worlds in the database: the simulator plays
// the user's infrastructure, so its state outlives the process.
type worldStore struct {
	db  *store.Store
	now func() time.Time
}

// LoadWorld implements sim.Store.
func (w *worldStore) LoadWorld(ctx context.Context, key string) ([]byte, error) {
	var state string
	err := w.db.QueryRowContext(ctx, "SELECT state FROM failover_sim_worlds WHERE world_key = ?", key).Scan(&state)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return []byte(state), nil
}

// SaveWorld implements sim.Store: one row per world, replaced.
func (w *worldStore) SaveWorld(ctx context.Context, key string, state []byte) error {
	_, err := w.db.ExecContext(ctx, `INSERT INTO failover_sim_worlds (world_key, state, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (world_key) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`,
		key, string(state), w.now().UnixMilli())
	return err
}

// fleetWorld names the simulated world of a fleet version.
func fleetWorld(name string, version int) string { return fmt.Sprintf("fleet/%s/%d", name, version) }

func exerciseWorld(id string) string { return "exercise/" + id }

// provider returns the provider an execution runs on, cached for the
// simulator so that its world is loaded once.
func (e *engine) provider(ctx context.Context, ex *Execution, f *fleet.Fleet, demand sim.DemandFunc) (provider.Provider, error) {
	switch f.ProviderType() {
	case "webhook":
		w := f.Provider.Webhook
		secret, err := e.s.webhookSecret(w)
		if err != nil {
			return nil, err
		}
		return webhook.New(w.URL, secret, w.Timeout.D(), e.s.webhookClient), nil
	case "simulator":
		e.mu.Lock()
		defer e.mu.Unlock()
		if s, ok := e.sims[ex.world]; ok {
			return s, nil
		}
		s, err := sim.Open(ctx, e.s.worlds, ex.world, f, demand)
		if err != nil {
			return nil, err
		}
		e.sims[ex.world] = s
		return s, nil
	}
	return nil, provider.Permanent(fmt.Errorf("provider %q: want simulator or webhook", f.ProviderType()))
}

// forget drops a finished execution's cached simulator.
func (e *engine) forget(world string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.sims, world)
}

// demandOf is the simulated demand of an execution: an exercise's
// synthetic demand, or a fleet plan's forecast peak per geography.
func (s *Service) demandOf(ctx context.Context, ex *Execution, peaks map[string]float64) (sim.DemandFunc, error) {
	if id, ok := strings.CutPrefix(ex.world, "exercise/"); ok {
		syn, err := s.exerciseDemand(ctx, id)
		if err != nil {
			return nil, err
		}
		return syn.Demand, nil
	}
	return func(geo string, _ time.Time) float64 { return peaks[geo] }, nil
}
