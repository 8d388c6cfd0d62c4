package failover_test

import (
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/gaffer-sre/gaffer/demand/failover"
	"github.com/gaffer-sre/gaffer/demand/failover/fleet"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
)

func testYAML(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/fleet.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func testFleet(t *testing.T) *fleet.Fleet {
	t.Helper()
	f, err := fleet.Parse(testYAML(t))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestFleetAPI(t *testing.T) {
	platformtest.EachBackend(t, func(t *testing.T, backend platformtest.Backend) {
		srv, _ := start(t, platformtest.Options{Backend: backend})
		src := testYAML(t)
		resp := srv.DoWith("PUT", "/api/v1/failover/fleets/streaming", srv.AdminToken, "application/yaml", src)
		if resp.Status != http.StatusCreated {
			t.Fatalf("PUT: %d %s", resp.Status, resp.Body)
		}
		resp = srv.DoWith("PUT", "/api/v1/failover/fleets/streaming", srv.AdminToken, "application/yaml", src)
		var put failover.PutFleetResult
		resp.JSON(t, &put)
		if resp.Status != 200 || put.Changed || put.Version != 1 || put.Clusters != 6 {
			t.Fatalf("PUT again: %d %+v", resp.Status, put)
		}
		// A bad document is refused with the field and its line.
		bad := strings.Replace(string(src), "size: 80", "size: -3", 1)
		resp = srv.DoWith("PUT", "/api/v1/failover/fleets/streaming", srv.AdminToken, "application/yaml", bad)
		if resp.Status != 400 || !strings.Contains(string(resp.Body), "line 38: services[1].clusters[0].size") {
			t.Fatalf("bad PUT: %d %s", resp.Status, resp.Body)
		}
		var v failover.ValidateResult
		call(t, srv, "POST", "/api/v1/failover/fleets/validate", bad, 200, &v)
		if v.Valid || len(v.Problems) == 0 || v.Problems[0].Path != "services[1].clusters[0].size" || v.Problems[0].Line != 38 {
			t.Fatalf("validate: %+v", v)
		}
		// Edit one cluster: a new version; a wrong value is named.
		call(t, srv, "PUT", "/api/v1/failover/fleets/streaming/clusters/api-us-east-1", map[string]any{"size": 90, "dark": 5}, 200, &put)
		if !put.Changed || put.Version != 2 {
			t.Fatalf("cluster edit: %+v", put)
		}
		resp = srv.Do("PUT", "/api/v1/failover/fleets/streaming/clusters/api-us-east-1", srv.AdminToken, map[string]any{"min": 500})
		if resp.Status != 400 || !strings.Contains(string(resp.Body), "services[1].clusters[0].min") {
			t.Fatalf("bad cluster edit: %d %s", resp.Status, resp.Body)
		}
		resp = srv.Do("PUT", "/api/v1/failover/fleets/streaming/clusters/nope", srv.AdminToken, map[string]any{"min": 5})
		if resp.Status != 404 {
			t.Fatalf("unknown cluster: %d %s", resp.Status, resp.Body)
		}
		call(t, srv, "PUT", "/api/v1/failover/fleets/streaming/geographies/latam", map[string]any{"steering": map[string]float64{"us-east-1": 1}}, 200, &put)
		var sf failover.StoredFleet
		call(t, srv, "GET", "/api/v1/failover/fleets/streaming", nil, 200, &sf)
		if sf.Version != 3 || sf.Spec.Geographies[3].Steering["us-west-2"] != 0 || sf.Spec.Services[1].Clusters[0].Size != 90 {
			t.Fatalf("stored: %+v", sf.FleetInfo)
		}
		resp = srv.Do("GET", "/api/v1/failover/fleets/streaming?format=yaml", srv.AdminToken, nil)
		if _, err := fleet.Parse(resp.Body); err != nil || !strings.Contains(string(resp.Body), "name: streaming") {
			t.Fatalf("YAML export: %v\n%s", err, resp.Body)
		}
		// Optimistic concurrency.
		resp = srv.DoWith("PUT", "/api/v1/failover/fleets/streaming?version=1", srv.AdminToken, "application/yaml", src)
		if resp.Status != 409 {
			t.Fatalf("stale version: %d %s", resp.Status, resp.Body)
		}
		var st failover.FleetStatus
		call(t, srv, "GET", "/api/v1/failover/fleets/streaming/status", nil, 200, &st)
		if len(st.Regions) != 3 || st.Demand != 2500 || st.Regions[0].Demand != 1200 {
			t.Fatalf("status: %+v", st)
		}
		call(t, srv, "DELETE", "/api/v1/failover/fleets/streaming", nil, 204, nil)
		call(t, srv, "GET", "/api/v1/failover/fleets/streaming", nil, 404, nil)
	})
}
