package failover_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gaffer-sre/gaffer/demand/failover"
	"github.com/gaffer-sre/gaffer/demand/failover/fleet"
	"github.com/gaffer-sre/gaffer/demand/failover/plan"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
)

// TestWebhookProviderEgressPolicy: under the default egress policy an
// execution on a webhook provider at a loopback address fails, naming
// the policy, without any call reaching the infrastructure.
func TestWebhookProviderEgressPolicy(t *testing.T) {
	srv, _ := start(t, platformtest.Options{})
	f := testFleet(t)
	in := newInfra(t, f)
	putFleet(t, srv, webhookFleet(t, in.srv.URL))
	rec := planOf(t, srv, failover.PlanRequest{Fleet: "streaming", Request: plan.Request{Evacuate: "us-west-2"}})
	ex := execute(t, srv, rec.ID)
	ex = waitExecution(t, srv, ex.ID, "the end", statusIs(failover.ExecSucceeded, failover.ExecFailed, failover.ExecRolledBack))
	if d := describe(ex); ex.Status == failover.ExecSucceeded || !strings.Contains(d, "egress policy") || !strings.Contains(d, "loopback") {
		t.Fatalf("execution on a loopback webhook: %s", d)
	}
	for _, path := range []string{"/scale", "/status", "/ungate", "/dark", "/steer", "/steering"} {
		if n := in.count(path); n != 0 {
			t.Errorf("%s reached %d times under the default policy", path, n)
		}
	}
}

// TestSecretEnvPrefix: a fleet's webhook secret_env may name only
// variables with the declared prefix; the refusal names the field and
// the prefix and is the same whether the variable exists or not.
func TestSecretEnvPrefix(t *testing.T) {
	t.Setenv("GAFFER_TEST_SET_SECRET", "kek-material")
	srv, _ := start(t, platformtest.Options{})
	put := func(srv *platformtest.Server, env string) (int, string) {
		f := webhookFleet(t, "https://automation.example.test/failover")
		f.Provider.Webhook.SecretEnv = env
		y, err := f.YAML()
		if err != nil {
			t.Fatal(err)
		}
		resp := srv.DoWith("PUT", "/api/v1/failover/fleets/"+f.Name, srv.AdminToken, "application/yaml", y)
		check := srv.DoWith("POST", "/api/v1/failover/fleets/validate", srv.AdminToken, "application/yaml", y)
		var v failover.ValidateResult
		check.JSON(t, &v)
		if v.Valid != (resp.Status < 300) {
			t.Errorf("%s: validate says valid=%v, PUT answered %d", env, v.Valid, resp.Status)
		}
		return resp.Status, string(resp.Body)
	}
	set, setMsg := put(srv, "GAFFER_TEST_SET_SECRET")
	unset, unsetMsg := put(srv, "GAFFER_TEST_UNSET_SECRET")
	if set != http.StatusBadRequest || unset != http.StatusBadRequest {
		t.Fatalf("secret_env outside the prefix: %d and %d, want 400", set, unset)
	}
	if !strings.Contains(setMsg, "provider.webhook.secret_env") || !strings.Contains(setMsg, failover.DefaultSecretEnvPrefix) {
		t.Errorf("refusal does not name the field and prefix: %s", setMsg)
	}
	if strings.ReplaceAll(setMsg, "GAFFER_TEST_SET_SECRET", "X") != strings.ReplaceAll(unsetMsg, "GAFFER_TEST_UNSET_SECRET", "X") {
		t.Errorf("the refusal differs when the variable is set:\n%s\n%s", setMsg, unsetMsg)
	}
	if status, msg := put(srv, failover.DefaultSecretEnvPrefix+"HOOK"); status >= 300 {
		t.Errorf("secret_env with the prefix: %d %s", status, msg)
	}

	other, _ := start(t, platformtest.Options{Args: []string{"--failover-secret-env-prefix", "ACME_HOOKS_"}})
	if status, _ := put(other, failover.DefaultSecretEnvPrefix+"HOOK"); status != http.StatusBadRequest {
		t.Errorf("the default prefix under --failover-secret-env-prefix ACME_HOOKS_: %d, want 400", status)
	}
	if status, msg := put(other, "ACME_HOOKS_STREAMING"); status >= 300 {
		t.Errorf("secret_env with the configured prefix: %d %s", status, msg)
	}
}

// TestSecretEnvCheckedWhenUsed: a fleet stored under one prefix runs
// under another only if its secret_env still fits; the execution fails
// permanently naming the field, before any call.
func TestSecretEnvCheckedWhenUsed(t *testing.T) {
	t.Setenv(failover.DefaultSecretEnvPrefix+"STREAMING", "s3cret")
	dir := t.TempDir()
	f := testFleet(t)
	in := newInfra(t, f)
	srv, _ := start(t, platformtest.Options{DataDir: dir, EgressAllow: platformtest.AllowLoopback})
	g := webhookFleet(t, in.srv.URL)
	g.Provider.Webhook = &fleet.Webhook{URL: in.srv.URL, SecretEnv: failover.DefaultSecretEnvPrefix + "STREAMING"}
	putFleet(t, srv, g)
	srv.Shutdown()

	srv, _ = start(t, platformtest.Options{DataDir: dir, EgressAllow: platformtest.AllowLoopback,
		Args: []string{"--failover-secret-env-prefix", "ACME_HOOKS_"}})
	rec := planOf(t, srv, failover.PlanRequest{Fleet: "streaming", Request: plan.Request{Evacuate: "us-west-2"}})
	ex := execute(t, srv, rec.ID)
	ex = waitExecution(t, srv, ex.ID, "the end", statusIs(failover.ExecSucceeded, failover.ExecFailed, failover.ExecRolledBack))
	if d := describe(ex); ex.Status == failover.ExecSucceeded || !strings.Contains(d, "provider.webhook.secret_env") || strings.Contains(d, "s3cret") {
		t.Fatalf("execution under another prefix: %s", d)
	}
	if n := in.count("/scale") + in.count("/steer"); n != 0 {
		t.Errorf("%d calls made without the secret", n)
	}
}
