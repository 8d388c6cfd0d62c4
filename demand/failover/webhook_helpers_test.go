package failover_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/demand/failover/fleet"
	"github.com/gaffer-sre/gaffer/demand/failover/provider"
	"github.com/gaffer-sre/gaffer/demand/failover/sim"
)

// fastSim are simulator timings in milliseconds, for executions in wall
// time that take a second or so.
var fastSim = fleet.Simulator{Seed: 5, ProvisionMin: ms(20), ProvisionMax: ms(40), StartupMax: ms(100), UngateMin: ms(5),
	UngateMax: ms(15), EdgePropagation: ms(20), DNSPropagation: ms(60), Warmup: ms(30)}

func ms(n int) fleet.Duration { return fleet.Duration(time.Duration(n) * time.Millisecond) }

// infra is a user's automation behind a webhook: a simulated world in
// wall time. Block holds the n-th call of a path until released.
type infra struct {
	t     *testing.T
	sim   *sim.Simulator
	srv   *httptest.Server
	mu    sync.Mutex
	calls map[string]int
	keys  map[string][]string
	block map[string]int
	held  chan string
	free  chan struct{}
}

func newInfra(t *testing.T, f *fleet.Fleet) *infra {
	t.Helper()
	g := f.Clone()
	params := fastSim
	g.Provider = fleet.Provider{Simulator: &params}
	demand := map[string]float64{}
	for _, geo := range f.Geographies {
		demand[geo.Name] = geo.Demand
	}
	s, err := sim.Open(context.Background(), &sim.MemStore{}, "w", g,
		func(geo string, _ time.Time) float64 { return demand[geo] })
	if err != nil {
		t.Fatal(err)
	}
	in := &infra{t: t, sim: s, calls: map[string]int{}, keys: map[string][]string{}, block: map[string]int{},
		held: make(chan string, 10), free: make(chan struct{})}
	in.srv = httptest.NewServer(http.HandlerFunc(in.serve))
	t.Cleanup(func() {
		in.release()
		in.srv.Close()
	})
	return in
}

// blockAt holds the n-th call to path until release.
func (in *infra) blockAt(path string, n int) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.block[path] = n
}

func (in *infra) release() {
	in.mu.Lock()
	defer in.mu.Unlock()
	select {
	case <-in.free:
	default:
		close(in.free)
	}
}

func (in *infra) count(path string) int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.calls[path]
}

func (in *infra) serve(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Call     provider.Call     `json:"call"`
		Targets  json.RawMessage   `json:"targets"`
		Clusters []string          `json:"clusters"`
		Steering provider.Steering `json:"steering"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	in.mu.Lock()
	in.calls[r.URL.Path]++
	n := in.calls[r.URL.Path]
	in.keys[r.URL.Path] = append(in.keys[r.URL.Path], r.Header.Get("Idempotency-Key"))
	hold := in.block[r.URL.Path] == n
	in.mu.Unlock()
	if hold {
		in.held <- r.URL.Path
		<-in.free
	}
	ctx, c := r.Context(), body.Call
	c.At = time.Now()
	var err error
	var out any
	switch r.URL.Path {
	case "/scale":
		var ts []provider.ScaleTarget
		json.Unmarshal(body.Targets, &ts)
		err = in.sim.Scale(ctx, c, ts)
	case "/ungate", "/dark":
		var ts []provider.GateTarget
		json.Unmarshal(body.Targets, &ts)
		if r.URL.Path == "/ungate" {
			err = in.sim.Ungate(ctx, c, ts)
		} else {
			err = in.sim.SizeDark(ctx, c, ts)
		}
	case "/steer":
		err = in.sim.Steer(ctx, c, body.Steering)
	case "/status":
		var st []provider.ClusterStatus
		st, err = in.sim.Status(ctx, c, body.Clusters)
		out = map[string]any{"clusters": st}
	case "/steering":
		out, err = in.sim.SteeringStatus(ctx, c)
	default:
		http.NotFound(w, r)
		return
	}
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if out == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	json.NewEncoder(w).Encode(out)
}

// webhookFleet is the test fleet on the webhook provider, with fast
// planning timings.
func webhookFleet(t *testing.T, url string) *fleet.Fleet {
	t.Helper()
	f := testFleet(t)
	f.Provider = fleet.Provider{Type: "webhook", Webhook: &fleet.Webhook{URL: url}}
	f.Planning = fleet.Planning{PollInterval: ms(10), HealthInterval: ms(10), WarmHold: ms(20), ColdHold: ms(30)}
	for i := range f.Services {
		f.Services[i].Startup = ms(50)
	}
	return f
}
