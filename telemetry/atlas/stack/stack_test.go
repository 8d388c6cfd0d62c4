package stack

import (
	"strings"
	"testing"
)

// stackOf runs a program and prints the stack top first, as the tables of
// Atlas's stack-word reference pages do.
func stackOf(t *testing.T, program string) []string {
	t.Helper()
	st, err := Interpret(program, nil, nil)
	if err != nil {
		t.Fatalf("%s: %v", program, err)
	}
	out := make([]string, len(st))
	for i, v := range st {
		out[len(st)-1-i] = itemString(v)
	}
	return out
}

// TestStackWordExamples reproduces the examples of Atlas's reference pages
// for the stack words (docs/asl/ref/<word>.md): program → output stack,
// top first.
func TestStackWordExamples(t *testing.T) {
	cases := []struct {
		program string
		want    []string
	}{
		{"a,b,c,d,:-rot", []string{"c", "b", "a", "d"}},
		{"a,b,:2over", []string{"b", "a", "b", "a"}},
		{"(,a,),:call", []string{"a"}},
		{"a,b,c,:clear", nil},
		{",:depth", []string{"0"}},
		{"a,:depth", []string{"1", "a"}},
		{"a,b,:depth", []string{"2", "b", "a"}},
		{"a,b,c,:drop", []string{"b", "a"}},
		{"(,a,b,),(,:dup,),:each", []string{"b", "b", "a", "a"}},
		{"duplicate,(,:dup,),:set,a,duplicate,:fcall", []string{"a", "a"}},
		{"foo%s,(,bar,),:format", []string{"foobar"}},
		{"a,b,c,:freeze", []string{"c", "b", "a"}},
		{"k,v,:set,k,:get", []string{"v"}},
		{"a,b,:list", []string{"List(b, a)"}},
		{",:list", []string{"List()"}},
		{"(,a%s,b%s,),(,(,.netflix.com,),:format,),:map", []string{"List(a.netflix.com, b.netflix.com)"}},
		{"a,0,:ndrop", []string{"a"}},
		{"a,b,c,2,:ndrop", []string{"a"}},
		{"a,b,c,4,:ndrop", nil},
		{"a,b,:nip", []string{"b"}},
		{"a,0,:nlist", []string{"List()", "a"}},
		{"a,b,c,2,:nlist", []string{"List(b, c)", "a"}},
		{"a,b,c,4,:nlist", []string{"List(a, b, c)"}},
		{"a,b,:over", []string{"a", "b", "a"}},
		{"a,0,:pick", []string{"a", "a"}},
		{"a,b,0,:pick", []string{"b", "b", "a"}},
		{"a,b,1,:pick", []string{"a", "b", "a"}},
		{"a,0,:roll", []string{"a"}},
		{"a,b,0,:roll", []string{"b", "a"}},
		{"a,b,1,:roll", []string{"a", "b"}},
		{"a,b,c,d,:rot", []string{"a", "d", "c", "b"}},
		{"k,v,:set", nil},
		{"a,b,:sset", nil},
		{"a,b,:swap", []string{"a", "b"}},
		{"a,b,:tuck", []string{"b", "a", "b"}},
	}
	for _, c := range cases {
		got := stackOf(t, c.program)
		if strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("%s: stack %q, want %q", c.program, got, c.want)
		}
	}
}

func TestStackErrors(t *testing.T) {
	cases := []struct{ program, want string }{
		{":drop", ":drop (position 0): stack underflow"},
		{"a,:foo", ":foo (position 2): unknown word"},
		{"a,b,:add", ":add (position 4): type mismatch"},
		{"name,sps,:eq,(,a", "position 13: unmatched opening parenthesis"},
		{"a,)", "position 2: unmatched closing parenthesis"},
		{"/* x", "unclosed comment"},
		{"(,:dup,:call,),:dup,:call", "looping detected"},
	}
	for _, c := range cases {
		_, err := Interpret(c.program, nil, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.program, err, c.want)
		}
	}
}
