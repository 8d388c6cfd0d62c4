package events

import (
	"strings"
	"testing"
)

// TestValidateConditionOnly checks that the editor's condition-only check
// compiles the condition alone and reports the same field and message as a
// full rule with that condition and a valid action.
func TestValidateConditionOnly(t *testing.T) {
	s := &Service{}
	hook := []Action{{Type: ActionWebhook, URL: "https://hooks.example.com/gaffer"}}
	for _, c := range []struct {
		cond, field, msg, index string
	}{
		{cond: ``, field: "condition", msg: "empty expression"},
		{cond: `data.x ==`, field: "condition", msg: "Syntax error: mismatched input '<EOF>'"},
		{cond: `1 + 1`, field: "condition", msg: "must evaluate to bool, but evaluates to int"},
		{cond: `nosuch == 1`, field: "condition", msg: "undeclared reference to 'nosuch'"},
		{cond: `true`, index: "evaluated for every event (no indexable conjunct)"},
		{cond: `source == "/a" && data.n > 1`, index: `evaluated when source == "/a"`},
		{cond: `type.startsWith("x.")`, index: `evaluated when type starts with "x."`},
	} {
		got := s.validate(ValidateRequest{Condition: c.cond})
		if c.field == "" {
			if !got.Valid || got.Index != c.index || got.Field != "" || got.Message != "" {
				t.Errorf("%q: got %+v, want valid, index %q", c.cond, got, c.index)
			}
		} else if got.Valid || got.Field != c.field || !strings.Contains(got.Message, c.msg) || got.Index != "" {
			t.Errorf("%q: got %+v, want field %q, message containing %q", c.cond, got, c.field, c.msg)
		}
		if full := s.validate(ValidateRequest{Condition: c.cond, Actions: hook}); full != got {
			t.Errorf("%q: condition only gives %+v, with an action %+v", c.cond, got, full)
		}
	}
}

// TestValidateChecksActions checks that actions, when given, are still
// checked: the condition-only path must not hide an action's error.
func TestValidateChecksActions(t *testing.T) {
	s := &Service{}
	got := s.validate(ValidateRequest{Condition: `true`, Actions: []Action{{Type: "email"}}})
	if got.Valid || got.Field != "actions[0].type" || !strings.Contains(got.Message, `"email" is not one of`) {
		t.Fatalf("got %+v, want actions[0].type rejected", got)
	}
}
