package alerting

import (
	"encoding/json"
	"math"
)

// jsonValue is v for JSON: nil (null) when v is NaN or infinite, which
// JSON cannot carry. An alert's value is NaN when its expression gives
// NaN (0/0, say) and when the database stored none.
func jsonValue(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// MarshalJSON writes the alert with its value null when it is not a
// finite number.
func (a Alert) MarshalJSON() ([]byte, error) {
	type plain Alert
	return json.Marshal(struct {
		plain
		Value *float64 `json:"value"`
	}{plain(a), jsonValue(a.Value)})
}

// UnmarshalJSON reads an alert, a null value as NaN.
func (a *Alert) UnmarshalJSON(b []byte) error {
	type plain Alert
	v := struct {
		*plain
		Value *float64 `json:"value"`
	}{plain: (*plain)(a)}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	a.Value = math.NaN()
	if v.Value != nil {
		a.Value = *v.Value
	}
	return nil
}

// MarshalJSON writes the transition with its value null when it is not
// a finite number.
func (t Transition) MarshalJSON() ([]byte, error) {
	type plain Transition
	return json.Marshal(struct {
		plain
		Value *float64 `json:"value"`
	}{plain(t), jsonValue(t.Value)})
}

// UnmarshalJSON reads a transition, a null value as NaN.
func (t *Transition) UnmarshalJSON(b []byte) error {
	type plain Transition
	v := struct {
		*plain
		Value *float64 `json:"value"`
	}{plain: (*plain)(t)}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	t.Value = math.NaN()
	if v.Value != nil {
		t.Value = *v.Value
	}
	return nil
}
