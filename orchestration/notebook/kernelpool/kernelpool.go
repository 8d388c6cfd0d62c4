// Package kernelpool keeps Jupyter kernels started ahead of need, per
// kernel spec, so that a run does not wait for a kernel to start. A kernel
// serves one run and is then killed, never reused: every run gets a clean
// interpreter. The pool bounds how many kernels run at once.
package kernelpool

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/gaffer-sre/gaffer/orchestration/notebook/jupyter"
)

// Options configure a Pool.
type Options struct {
	// Warm is how many started, idle kernels to keep per kernel spec that
	// has been asked for (default 2; 0 is allowed only through NoWarm).
	// Taking a kernel refills at once only when none is left idle;
	// otherwise the refill starts when the run releases its kernel.
	Warm   int
	NoWarm bool
	// MaxRunning bounds the kernels handed out at once; Get waits for a
	// slot (default 4).
	MaxRunning int
	// Start starts a kernel (default jupyter.Start with Kernel options).
	Start  func(ctx context.Context, spec *jupyter.KernelSpec) (*jupyter.Kernel, error)
	Kernel jupyter.Options
	Log    *slog.Logger
}

// Pool hands out fresh kernels. Its methods may be called concurrently.
type Pool struct {
	opts  Options
	slots chan struct{}

	mu      sync.Mutex
	specs   map[string]*warmSet
	closed  bool
	warming sync.WaitGroup
	ctx     context.Context // ends on Close: stops kernels still starting
	cancel  context.CancelFunc
}

// warmSet is the idle kernels of one spec and those starting for it.
type warmSet struct {
	spec     *jupyter.KernelSpec
	idle     []*jupyter.Kernel
	starting int
}

// ErrClosed is returned by Get after Close.
var ErrClosed = errors.New("kernel pool is closed")

// New returns a pool; it starts no kernel until a spec is asked for or
// warmed with Warm.
func New(opts Options) *Pool {
	if opts.Warm == 0 && !opts.NoWarm {
		opts.Warm = 2
	}
	if opts.NoWarm {
		opts.Warm = 0
	}
	if opts.MaxRunning <= 0 {
		opts.MaxRunning = 4
	}
	if opts.Start == nil {
		kopts := opts.Kernel
		opts.Start = func(ctx context.Context, spec *jupyter.KernelSpec) (*jupyter.Kernel, error) {
			return jupyter.Start(ctx, spec, kopts)
		}
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Pool{opts: opts, slots: make(chan struct{}, opts.MaxRunning), specs: map[string]*warmSet{}, ctx: ctx, cancel: cancel}
}

// Lease is a kernel handed out for one run. Release it when the run ends.
type Lease struct {
	Kernel *jupyter.Kernel
	pool   *Pool
	once   sync.Once
}

// Release kills the lease's kernel and frees its slot; it is safe to call
// more than once.
func (l *Lease) Release() {
	l.once.Do(func() {
		l.Kernel.Kill()
		<-l.pool.slots
		p := l.pool
		p.mu.Lock()
		if w := p.specs[l.Kernel.Spec.Name]; w != nil {
			p.refillLocked(w)
		}
		p.mu.Unlock()
	})
}

// Get returns a fresh kernel of spec: a warm one when there is one, else
// one started now. It waits for a free slot first. The warm set refills
// in the background.
func (p *Pool) Get(ctx context.Context, spec *jupyter.KernelSpec) (*Lease, error) {
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for a kernel slot: %w", ctx.Err())
	}
	k, err := p.take(ctx, spec)
	if err != nil {
		<-p.slots
		return nil, err
	}
	return &Lease{Kernel: k, pool: p}, nil
}

func (p *Pool) take(ctx context.Context, spec *jupyter.KernelSpec) (*jupyter.Kernel, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, ErrClosed
	}
	w := p.set(spec)
	var k *jupyter.Kernel
	for len(w.idle) > 0 && k == nil {
		k, w.idle = w.idle[0], w.idle[1:]
		if k.Err() != nil { // died while idle
			k.Kill()
			k = nil
		}
	}
	// A kernel starting takes about a CPU-second, which would slow the
	// run just handed one: while another warm kernel is left, the refill
	// waits for the run's release.
	if len(w.idle) == 0 {
		p.refillLocked(w)
	}
	p.mu.Unlock()
	if k != nil {
		return k, nil
	}
	k, err := p.opts.Start(ctx, spec)
	if err != nil {
		return nil, err
	}
	return k, nil
}

// set returns the warm set of spec, replacing one kept for an older
// version of the spec.
func (p *Pool) set(spec *jupyter.KernelSpec) *warmSet {
	w := p.specs[spec.Name]
	if w == nil || !sameSpec(w.spec, spec) {
		if w != nil {
			for _, k := range w.idle {
				go k.Kill()
			}
		}
		w = &warmSet{spec: spec}
		p.specs[spec.Name] = w
	}
	return w
}

func sameSpec(a, b *jupyter.KernelSpec) bool {
	if a.Dir != b.Dir || len(a.Argv) != len(b.Argv) || a.InterruptMode != b.InterruptMode || len(a.Env) != len(b.Env) {
		return false
	}
	for i := range a.Argv {
		if a.Argv[i] != b.Argv[i] {
			return false
		}
	}
	for k, v := range a.Env {
		if b.Env[k] != v {
			return false
		}
	}
	return true
}

// Warm starts spec's warm kernels in the background, so that the first
// run finds one.
func (p *Pool) Warm(spec *jupyter.KernelSpec) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.closed {
		p.refillLocked(p.set(spec))
	}
}

// refillLocked starts kernels until w has Warm idle or starting.
func (p *Pool) refillLocked(w *warmSet) {
	for len(w.idle)+w.starting < p.opts.Warm && !p.closed {
		w.starting++
		p.warming.Add(1)
		go p.startWarm(w)
	}
}

func (p *Pool) startWarm(w *warmSet) {
	defer p.warming.Done()
	k, err := p.opts.Start(p.ctx, w.spec)
	p.mu.Lock()
	w.starting--
	keep := err == nil && !p.closed && p.specs[w.spec.Name] == w
	if keep {
		w.idle = append(w.idle, k)
	}
	closed := p.closed
	p.mu.Unlock()
	switch {
	case err != nil && !closed:
		p.opts.Log.Warn("start a warm kernel", "kernel", w.spec.Name, "error", err)
	case err == nil && !keep:
		k.Kill() // before Done, so that Close returns with no kernel left
	}
}

// Idle returns how many warm kernels of the named spec are ready.
func (p *Pool) Idle(name string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if w := p.specs[name]; w != nil {
		return len(w.idle)
	}
	return 0
}

// Close kills the idle kernels and those starting, and refuses further
// Gets. Kernels handed out are killed by their Release.
func (p *Pool) Close() {
	p.mu.Lock()
	p.closed = true
	var idle []*jupyter.Kernel
	for _, w := range p.specs {
		idle = append(idle, w.idle...)
		w.idle = nil
	}
	p.mu.Unlock()
	p.cancel()
	for _, k := range idle {
		k.Kill()
	}
	p.warming.Wait()
}
