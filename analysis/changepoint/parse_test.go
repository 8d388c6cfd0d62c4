package changepoint

import (
	"strings"
	"testing"
	"time"
)

func TestParseRange(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	at := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, c := range []struct {
		s, e       string
		start, end time.Time
	}{
		{"", "", now.Add(-3 * time.Hour), now},
		{"now-1d", "now-1h30m", now.Add(-24 * time.Hour), now.Add(-90 * time.Minute)},
		{"e-1w", "2026-11-20T00:00:00Z", at("2026-11-13T00:00:00Z"), at("2026-11-20T00:00:00Z")},
		{"2026-11-24", "s+90", at("2026-11-24T00:00:00Z"), at("2026-11-24T00:01:30Z")},
		{"1795000000", "1795003600000", time.Unix(1795000000, 0), time.Unix(1795003600, 0)},
		{"1795000000.5", "now", time.Unix(1795000000, 5e8), now},
		{"now-500ms", "now", now.Add(-500 * time.Millisecond), now},
	} {
		start, end, err := parseRange(c.s, c.e, now)
		if err != nil || !start.Equal(c.start) || !end.Equal(c.end) {
			t.Errorf("s=%q e=%q: got %v, %v, %v; want %v, %v", c.s, c.e, start, end, err, c.start, c.end)
		}
	}
	for _, c := range []struct{ s, e, want string }{
		{"s-1h", "", "s: \"s-1h\" refers to itself"},
		{"", "e", "e: \"e\" refers to itself"},
		{"e-1h", "s+1h", "refer to each other"},
		{"now", "now-1h", "must be before e"},
		{"now-1x", "", "unknown unit"},
		{"yesterday", "", "s: \"yesterday\" is not a time"},
		{"", "now+", "e: empty duration"},
		{"NaN", "", "is not a time"},
	} {
		if _, _, err := parseRange(c.s, c.e, now); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("s=%q e=%q: error %v, want %q", c.s, c.e, err, c.want)
		}
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"90s": 90 * time.Second, "1h30m": 90 * time.Minute, "2d": 48 * time.Hour, "1w": 7 * 24 * time.Hour,
		"1y": 365 * 24 * time.Hour, "250ms": 250 * time.Millisecond, "60": time.Minute, "0.5": 500 * time.Millisecond,
	} {
		if got, err := parseDuration(in); err != nil || got != want {
			t.Errorf("%s: got %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "h", "1.5h", "-1h", "1e10", "10x", "9999999999s"} {
		if _, err := parseDuration(in); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
}
