package changepoint

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/gaffer-sre/gaffer/analysis/changepoint/detect"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
)

// start runs a server with the changepoint system and returns it, a token
// with its scope, and the running service.
func start(t *testing.T, args ...string) (*platformtest.Server, string, *Service) {
	t.Helper()
	return startWith(t, platformtest.Options{Args: args})
}

// startRoles runs a server with only the given systems.
func startRoles(t *testing.T, roles ...string) (*platformtest.Server, string, *Service) {
	t.Helper()
	return startWith(t, platformtest.Options{Roles: roles})
}

func startWith(t *testing.T, o platformtest.Options) (*platformtest.Server, string, *Service) {
	t.Helper()
	srv := platformtest.Start(t, o)
	svc, ok := srv.Deps().Lookup(Name)
	if !ok {
		t.Fatal("changepoint service not running")
	}
	return srv, srv.Token(Scope), svc.(*Service)
}

func rows(s *detect.Signal) [][]float64 {
	out := make([][]float64, s.Len())
	for i := range out {
		out[i] = append([]float64(nil), s.Row(i)...)
	}
	return out
}

// steps is a seeded signal of n samples in dims dimensions whose level
// jumps by 10 at n/3 and 2n/3, with unit Gaussian noise.
func steps(n, dims int, seed uint64) (*detect.Signal, error) {
	rng := rand.New(rand.NewPCG(seed, 1))
	data := make([]float64, 0, n*dims)
	for i := 0; i < n; i++ {
		level := float64(10 * (3 * i / n))
		for range dims {
			data = append(data, level+rng.NormFloat64())
		}
	}
	return detect.NewSignalFlat(data, n, dims)
}

func TestDetect(t *testing.T) {
	srv, tok, _ := start(t)
	sig, err := steps(300, 2, 7)
	if err != nil {
		t.Fatal(err)
	}
	pen := 20.0
	want, err := detect.Detect(context.Background(), sig, detect.Params{Method: "pelt", Cost: "l2", Pen: &pen})
	if err != nil {
		t.Fatal(err)
	}
	var csv strings.Builder
	for _, r := range rows(sig) {
		fmt.Fprintf(&csv, "%v,%v\n", r[0], r[1])
	}
	for name, signal := range map[string]any{"rows": rows(sig), "csv": "a,b\n" + csv.String()} {
		resp := srv.Do("POST", "/api/v1/changepoint/detect", tok,
			map[string]any{"signal": signal, "method": "pelt", "cost": "l2", "pen": pen})
		if resp.Status != http.StatusOK {
			t.Fatalf("%s: status %d: %s", name, resp.Status, resp.Body)
		}
		var got DetectResponse
		resp.JSON(t, &got)
		if !slices.Equal(got.Bkps, want) || got.ElapsedSeconds < 0 {
			t.Errorf("%s: got %+v, want bkps %v", name, got, want)
		}
	}
	// One dimension, every method, with its default parameters.
	one, _ := steps(200, 1, 3)
	for _, m := range detect.MethodNames() {
		body := map[string]any{"signal": one.Column(0), "method": m, "cost": "l2", "n_bkps": 2}
		if m == "pelt" {
			body = map[string]any{"signal": one.Column(0), "method": m, "cost": "l2", "pen": 10}
		}
		if m == "kernelcpd" {
			body["cost"] = "linear"
		}
		resp := srv.Do("POST", "/api/v1/changepoint/detect", tok, body)
		var got DetectResponse
		resp.JSON(t, &got)
		if resp.Status != http.StatusOK || len(got.Bkps) == 0 || got.Bkps[len(got.Bkps)-1] != 200 {
			t.Errorf("%s: status %d: %s", m, resp.Status, resp.Body)
		}
	}
}

func TestDetectBadInput(t *testing.T) {
	srv, tok, _ := start(t)
	xs := []float64{1, 1, 1, 1, 5, 5, 5, 5}
	big := make([]float64, MaxValues+1)
	tests := []struct {
		name   string
		body   any
		status int
		want   string
	}{
		{"unknown field", map[string]any{"signal": xs, "method": "pelt", "cost": "l2", "pen": 1, "penalty": 2}, 400, "penalty: unknown field"},
		{"no method", map[string]any{"signal": xs, "cost": "l2", "pen": 1}, 400, "method: required"},
		{"bad method", map[string]any{"signal": xs, "method": "nope", "cost": "l2", "pen": 1}, 400, "method: unknown method"},
		{"bad cost", map[string]any{"signal": xs, "method": "pelt", "cost": "l3", "pen": 1}, 400, "is not a cost of pelt"},
		{"kernel cost", map[string]any{"signal": xs, "method": "kernelcpd", "cost": "l2", "pen": 1}, 400, "cost:"},
		{"two stops", map[string]any{"signal": xs, "method": "binseg", "cost": "l2", "pen": 1, "n_bkps": 1}, 400, "exactly one of pen, n_bkps and epsilon"},
		{"negative pen", map[string]any{"signal": xs, "method": "pelt", "cost": "l2", "pen": -1}, 400, "pen: must be"},
		{"pelt by count", map[string]any{"signal": xs, "method": "pelt", "cost": "l2", "n_bkps": 1}, 400, "n_bkps"},
		{"wrong type", map[string]any{"signal": xs, "method": "pelt", "cost": "l2", "pen": "high"}, 400, "pen: expected float64"},
		{"no signal", map[string]any{"method": "pelt", "cost": "l2", "pen": 1}, 400, "signal: required"},
		{"empty signal", map[string]any{"signal": []float64{}, "method": "pelt", "cost": "l2", "pen": 1}, 400, "signal:"},
		{"null value", `{"signal":[1,null,3],"method":"pelt","cost":"l2","pen":1}`, 400, "signal: null"},
		{"ragged", map[string]any{"signal": [][]float64{{1, 2}, {3}}, "method": "pelt", "cost": "l2", "pen": 1}, 400, "ragged"},
		{"text", map[string]any{"signal": "1\nx\n", "method": "pelt", "cost": "l2", "pen": 1}, 400, "signal:"},
		{"min_size too large", map[string]any{"signal": xs, "method": "pelt", "cost": "l2", "pen": 1, "min_size": 20}, 400, "min_size 20 is larger than the signal"},
		{"too many bkps", map[string]any{"signal": xs, "method": "dynp", "cost": "l2", "n_bkps": 5, "jump": 1}, 400, "5 breakpoints do not fit"},
		{"ar on 2-D", map[string]any{"signal": [][]float64{{1, 2}, {3, 4}, {5, 6}, {7, 8}, {9, 1}, {2, 3}, {4, 5}}, "method": "binseg", "cost": "ar", "n_bkps": 1}, 400, "one-dimensional"},
		{"too long", map[string]any{"signal": big, "method": "pelt", "cost": "l2", "pen": 1}, 400, "more than the limit"},
		{"not JSON", "signal=1,2,3", 400, "request body"},
		{"trailing data", `{"signal":[1,2,3],"method":"pelt","cost":"l2","pen":1} {}`, 400, "unexpected data"},
	}
	for _, tt := range tests {
		resp := srv.Do("POST", "/api/v1/changepoint/detect", tok, tt.body)
		if resp.Status != tt.status || !strings.Contains(string(resp.Body), tt.want) {
			t.Errorf("%s: status %d %s, want %d containing %q", tt.name, resp.Status, resp.Body, tt.status, tt.want)
		}
	}
}

// TestDetectBudget checks that a search far longer than the budget is
// stopped (rbf in Binseg on 20,000 samples computes its kernel sums on
// the fly: minutes of work).
func TestDetectBudget(t *testing.T) {
	srv, tok, _ := start(t, "--changepoint-budget=200ms")
	sig, _ := steps(20_000, 1, 1)
	resp := srv.Do("POST", "/api/v1/changepoint/detect", tok,
		map[string]any{"signal": sig.Column(0), "method": "binseg", "cost": "rbf", "n_bkps": 3})
	if resp.Status != http.StatusServiceUnavailable || resp.ErrorCode() != "timeout" {
		t.Fatalf("status %d: %s", resp.Status, resp.Body)
	}
	// The slot is free again.
	resp = srv.Do("POST", "/api/v1/changepoint/detect", tok,
		map[string]any{"signal": []float64{1, 1, 1, 9, 9, 9}, "method": "dynp", "cost": "l2", "n_bkps": 1, "jump": 1, "min_size": 1})
	if resp.Status != http.StatusOK || !strings.Contains(string(resp.Body), `"bkps":[3,6]`) {
		t.Fatalf("after a timeout: status %d: %s", resp.Status, resp.Body)
	}
}

func TestScopes(t *testing.T) {
	srv, _, _ := start(t)
	other := srv.Token("audit:read")
	body := map[string]any{"signal": []float64{1, 2, 3}, "method": "pelt", "cost": "l2", "pen": 1}
	for _, c := range []struct {
		method, path, token string
		body                any
		want                int
	}{
		{"POST", "/api/v1/changepoint/detect", "", body, 401},
		{"POST", "/api/v1/changepoint/detect", other, body, 403},
		{"GET", "/api/v1/changepoint/series?q=up", "", nil, 401},
		{"GET", "/api/v1/changepoint/series?q=up", other, nil, 403},
		{"GET", "/changepoint", other, nil, 403},
	} {
		if resp := srv.Do(c.method, c.path, c.token, c.body); resp.Status != c.want {
			t.Errorf("%s %s: status %d, want %d", c.method, c.path, resp.Status, c.want)
		}
	}
}
