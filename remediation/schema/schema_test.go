package schema

import (
	"errors"
	"testing"
)

func TestValidateNamesThePointer(t *testing.T) {
	s, err := Compile("t", []byte(`{"type": "object", "properties": {"a/b": {"type": "integer"}, "list": {"items": {"minimum": 0}}},
		"required": ["x"]}`))
	if err != nil {
		t.Fatal(err)
	}
	err = s.ValidateJSON([]byte(`{"a/b": "no", "list": [1, -1]}`))
	var se *Error
	if !errors.As(err, &se) {
		t.Fatalf("want *Error, got %v", err)
	}
	want := map[string]bool{"": false, "/a~1b": false, "/list/1": false}
	for _, p := range se.Problems {
		if _, ok := want[p.Pointer]; ok {
			want[p.Pointer] = true
		}
	}
	for ptr, seen := range want {
		if !seen {
			t.Errorf("no problem at %q: %v", ptr, se)
		}
	}
	if s.ValidateJSON([]byte(`{"x": 1, "a/b": 2}`)) != nil {
		t.Fatal("valid document refused")
	}
	if _, err := Compile("ref", []byte(`{"$ref": "https://example.com/s.json"}`)); err == nil {
		t.Fatal("a remote reference was fetched or accepted")
	}
}
