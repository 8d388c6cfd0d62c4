package celbudget

import (
	"sync"
	"sync/atomic"

	"cel.dev/cel-go/cel"
	"github.com/spf13/pflag"
)

// AddFlags declares a system's budget flags, prefix-cel-cost-limit,
// prefix-cel-max-size and prefix-cel-timeout, into b (which holds their
// defaults).
func AddFlags(fs *pflag.FlagSet, prefix string, b *Budget) {
	fs.Uint64Var(&b.Cost, prefix+"-cel-cost-limit", b.Cost,
		"most CEL cost units one evaluation of an expression may spend (about one per operation)")
	fs.Uint32Var(&b.MaxSize, prefix+"-cel-max-size", b.MaxSize,
		"largest string (bytes) or list/map (elements) one evaluation may build or read")
	fs.DurationVar(&b.Timeout, prefix+"-cel-timeout", b.Timeout, "longest one evaluation may run")
}

// Process is the budget one system's expressions get in this process.
// The system sets it from its flags when it is constructed; expressions
// read it when they are compiled. Until it is set it is Default(). Its
// zero value is ready to use.
type Process struct {
	b atomic.Pointer[Budget]
}

// Set validates b (prefix names the flags in errors) and makes it the
// process's budget for later compilations.
func (p *Process) Set(b Budget, prefix string) error {
	if err := b.Validate(prefix); err != nil {
		return err
	}
	p.b.Store(&b)
	return nil
}

// Get returns the budget set last, or Default().
func (p *Process) Get() Budget {
	if b := p.b.Load(); b != nil {
		return *b
	}
	return Default()
}

// EnvCache builds a system's CEL environment once per budget (the
// environment's size-checked functions depend on MaxSize).
type EnvCache struct {
	// Build makes the system's environment; its options end with
	// b.EnvOptions().
	Build func(b Budget) (*cel.Env, error)

	mu   sync.Mutex
	envs map[Budget]*cel.Env
}

// Get returns the environment for b, building it the first time.
func (c *EnvCache) Get(b Budget) (*cel.Env, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if env, ok := c.envs[b]; ok {
		return env, nil
	}
	env, err := c.Build(b)
	if err != nil {
		return nil, err
	}
	if c.envs == nil {
		c.envs = map[Budget]*cel.Env{}
	}
	c.envs[b] = env
	return env, nil
}
