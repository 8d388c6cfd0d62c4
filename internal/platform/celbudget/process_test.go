package celbudget

import (
	"testing"
	"time"

	"cel.dev/cel-go/cel"
	"github.com/spf13/pflag"
)

func TestProcessBudgetAndFlags(t *testing.T) {
	var p Process
	if p.Get() != Default() {
		t.Fatalf("unset: %+v, want Default", p.Get())
	}
	b := Default()
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	AddFlags(fs, "events", &b)
	if err := fs.Parse([]string{"--events-cel-max-size", "1000", "--events-cel-timeout", "0s"}); err != nil {
		t.Fatal(err)
	}
	if err := p.Set(b, "events"); err == nil || err.Error() != "events-cel-timeout: must be positive, got 0s" {
		t.Fatalf("Set with a zero timeout: %v", err)
	}
	if p.Get() != Default() {
		t.Fatalf("a refused Set changed the budget to %+v", p.Get())
	}
	b.Timeout = time.Second
	if err := p.Set(b, "events"); err != nil || p.Get() != (Budget{Cost: Default().Cost, MaxSize: 1000, Timeout: time.Second}) {
		t.Fatalf("Set: %v, budget %+v", err, p.Get())
	}
}

func TestEnvCacheBuildsOncePerBudget(t *testing.T) {
	built := 0
	c := EnvCache{Build: func(b Budget) (*cel.Env, error) {
		built++
		return cel.NewEnv(b.EnvOptions()...)
	}}
	small := Budget{Cost: 100, MaxSize: 10, Timeout: time.Second}
	for _, b := range []Budget{Default(), small, Default(), small} {
		if _, err := c.Get(b); err != nil {
			t.Fatal(err)
		}
	}
	if built != 2 {
		t.Fatalf("built %d environments for two budgets", built)
	}
}
