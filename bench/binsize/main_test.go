package main

import "testing"

func TestModuleOf(t *testing.T) {
	modules := []string{"example.com/app", "github.com/a/b", "github.com/a/b/v2", "golang.org/x/text", "github.com/nats-io/nats.go"}
	tests := []struct{ sym, want string }{
		{"github.com/a/b/v2/pkg.Func", "github.com/a/b/v2"},
		{"github.com/a/b/pkg.(*T).M", "github.com/a/b"},
		{"github.com/a/b.init", "github.com/a/b"},
		{"github.com/a/bc/pkg.F", "(other)"},
		{"type:*github.com/a/b/pkg.T", "github.com/a/b"},
		{"go:itab.*golang.org/x/text/transform.Nop,io.Reader", "golang.org/x/text"},
		{".eq.github.com/a/b/v2/pkg.T", "github.com/a/b/v2"},
		{"github.com/nats-io/nats%2ego.(*Conn).Publish", "github.com/nats-io/nats.go"},
		{"github.com/nats-io/nats.go/jetstream.New", "github.com/nats-io/nats.go"},
		{"github.com/nats-io/nats%2egox.F", "(other)"},
		{"main.main", "example.com/app"},
		{"runtime.mallocgc", "std"},
		{"crypto/tls.(*Conn).Read", "std"},
		{"go:func.*", "(runtime metadata)"},
		{"slices.pdqsortCmpFunc[go.shape.struct { github.com/x/y.A int }]", "std"},
		{"example.org/unlisted/pkg.F", "(other)"},
		{"sync/atomic.(*Pointer[github.com/a/b/pkg.T]).Load", "std"},
	}
	for _, tc := range tests {
		if got := moduleOf(tc.sym, "example.com/app", modules); got != tc.want {
			t.Errorf("moduleOf(%q) = %q, want %q", tc.sym, got, tc.want)
		}
	}
}
