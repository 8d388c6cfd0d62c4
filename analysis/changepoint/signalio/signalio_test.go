package signalio

import (
	"errors"
	"strings"
	"testing"

	"github.com/gaffer-sre/gaffer/analysis/changepoint/detect"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		in   string
		n, d int
		err  string
	}{
		{"json series", "[1, 2.5, -3]", 3, 1, ""},
		{"json rows", "[[1,2],[3,4]]", 2, 2, ""},
		{"csv", "1,2\n3,4\n5,6\n", 3, 2, ""},
		{"csv header", "a,b\n1,2\n3,4\n", 2, 2, ""},
		{"csv single column", "1\n2\n3", 3, 1, ""},
		{"empty", "  \n", 0, 0, "empty input"},
		{"empty json", "[]", 0, 0, "empty JSON array"},
		{"ragged csv", "1,2\n3\n", 0, 0, "ragged rows"},
		{"ragged json", "[[1,2],[3]]", 0, 0, "ragged rows"},
		{"nan", "1\nNaN\n", 0, 0, "non-finite"},
		{"inf json", "[[1],[1e999]]", 0, 0, "JSON sample 1"},
		{"bad value", "1\n2\nx\n", 0, 0, "line 3"},
		{"header only", "a,b\n", 0, 0, "no samples"},
		{"bad json", "[1, \"a\"]", 0, 0, "want a number"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse([]byte(tc.in))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want it to mention %q", err, tc.err)
				}
				if !errors.Is(err, detect.ErrInvalidSignal) {
					t.Errorf("err %v does not wrap ErrInvalidSignal", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.Len() != tc.n || s.Dims() != tc.d {
				t.Errorf("got %dx%d, want %dx%d", s.Len(), s.Dims(), tc.n, tc.d)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, seed := range []string{"[1,2,3]", "[[1,2],[3,4]]", "a,b\n1,2\n", "1\n2\n", "[[1],[2,3]]", "1,NaN", "[", "\"", "1e400"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		s, err := Parse(in)
		if err != nil {
			return
		}
		if s.Len() < 1 || s.Dims() < 1 || len(s.Data()) != s.Len()*s.Dims() {
			t.Fatalf("bad signal %dx%d with %d values", s.Len(), s.Dims(), len(s.Data()))
		}
	})
}
