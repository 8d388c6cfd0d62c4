package fleet

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/prometheus/common/model"
)

// Duration is a time.Duration written as Prometheus writes durations:
// "90s", "5m", "1h30m", "14d".
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// Seconds returns d in seconds.
func (d Duration) Seconds() float64 { return time.Duration(d).Seconds() }

// String formats d, e.g. "5m"; sub-millisecond parts are dropped.
func (d Duration) String() string { return model.Duration(d).String() }

// ParseDuration reads a duration such as "90s", "5m" or "14d".
func ParseDuration(s string) (Duration, error) {
	d, err := model.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("want a duration such as 90s, 5m or 14d, got %q", s)
	}
	return Duration(d), nil
}

// MarshalJSON writes d as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("want a duration string such as \"5m\": %w", err)
	}
	v, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}
