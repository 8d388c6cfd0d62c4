package celbudget

import (
	"context"
	"errors"
	"testing"
	"time"

	"cel.dev/cel-go/common/types"
)

// FuzzEval evaluates arbitrary expressions under a small budget: none
// panics, none runs past the budget unnoticed, and none returns a string
// larger than the size limit.
func FuzzEval(f *testing.F) {
	for _, src := range []string{
		replaceBomb,
		`s.replace("", s).replace("", s).replace("", s)`,
		`s.split("").map(x, x + x + x).join("")`,
		`lists.range(n).map(i, s + s).join(s)`,
		`"%s%s%s%s".format([s, s, s, s])`,
		`base64.encode(bytes(s + s + s))`,
		`s.size() > 3 && s.startsWith("a")`,
	} {
		f.Add(src, "abc", int64(3))
	}
	b := Budget{Cost: 100_000, MaxSize: 1 << 16, Timeout: 100 * time.Millisecond}
	env := testEnv(f, b)
	f.Fuzz(func(t *testing.T, src, s string, n int64) {
		if len(src) > 4096 || len(s) > 1<<12 {
			return
		}
		ast, iss := env.Compile(src)
		if iss.Err() != nil {
			return
		}
		p, err := b.Program(env, ast)
		if err != nil {
			if !errors.Is(err, ErrExceeded) {
				t.Logf("plan %q: %v", src, err)
			}
			return
		}
		out, err := p.Eval(context.Background(), map[string]any{"s": s, "n": n})
		if err != nil {
			return
		}
		if str, ok := out.(types.String); ok && len(str) > int(b.MaxSize) {
			t.Fatalf("%q with s=%q n=%d built a string of %d bytes, over the %d limit", src, s, n, len(str), b.MaxSize)
		}
	})
}
