package atlas

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
)

// TestGraphsWaitForASlot is issue #15 item 3 for Atlas: with every slot
// held, a graph waits out --atlas-queue-timeout and fails with 503 naming
// the limits; once a slot is free it is drawn.
func TestGraphsWaitForASlot(t *testing.T) {
	srv := platformtest.Start(t, platformtest.Options{Args: []string{"--atlas-max-concurrency=1", "--atlas-queue-timeout=20ms"}})
	svc, _ := srv.Deps().Lookup(Name)
	as := svc.(*Service)
	read := srv.Token(ReadScope)
	q := url.Values{"q": {"name,sps,:eq,:sum"}, "s": {"e-30m"}, "format": {"json"}}
	release, err := as.graphs.Enter(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	resp := srv.Do("GET", "/api/v1/graph?"+q.Encode(), read, nil)
	if resp.Status != 503 || !strings.Contains(string(resp.Body), "limits: --atlas-max-concurrency, --atlas-queue-timeout") {
		t.Fatalf("graph with every slot held: %d %s", resp.Status, resp.Body)
	}
	release()
	if resp := srv.Do("GET", "/api/v1/graph?"+q.Encode(), read, nil); resp.Status != 200 {
		t.Fatalf("graph with a free slot: %d %s", resp.Status, resp.Body)
	}
}
