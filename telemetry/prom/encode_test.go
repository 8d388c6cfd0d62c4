package prom

import (
	"math"
	"testing"
	"time"
)

func TestTimestampsAndValuesAsPrometheus(t *testing.T) {
	for _, c := range []struct {
		ms   int64
		want string
	}{{1435781430781, "1435781430.781"}, {1000, "1"}, {1500, "1.5"}, {1050, "1.05"}, {0, "0"}, {-1500, "-1.5"}} {
		if got := string(appendTimestamp(nil, c.ms)); got != c.want {
			t.Errorf("timestamp %d = %s, want %s", c.ms, got, c.want)
		}
	}
	for _, c := range []struct {
		v    float64
		want string
	}{{1, "1"}, {0.1, "0.1"}, {1e21, "1000000000000000000000"}, {math.NaN(), "NaN"}, {math.Inf(1), "+Inf"}, {math.Inf(-1), "-Inf"}} {
		if got := string(AppendFloat(nil, c.v)); got != c.want {
			t.Errorf("value %v = %s, want %s", c.v, got, c.want)
		}
	}
	if got := string(appendJSONString(nil, "a\"b\\c\n\x01\xff")); got != `"a\"b\\c\n\u0001\ufffd"` {
		t.Errorf("json string %s", got)
	}
}

func TestParseTimeAndDuration(t *testing.T) {
	if tm, err := ParseTime("1435781430.781"); err != nil || tm.UnixMilli() != 1435781430781 {
		t.Errorf("unix: %v %v", tm, err)
	}
	if tm, err := ParseTime("2015-07-01T20:10:30.781Z"); err != nil || tm.UnixMilli() != 1435781430781 {
		t.Errorf("rfc3339: %v %v", tm, err)
	}
	if tm, err := ParseTime(minTimeFormatted); err != nil || !tm.Equal(MinTime) {
		t.Errorf("min time: %v %v", tm, err)
	}
	if _, err := ParseTime("yesterday"); err == nil {
		t.Error("parsed yesterday")
	}
	if d, err := ParseDuration("1h30m"); err != nil || d != 90*time.Minute {
		t.Errorf("duration: %v %v", d, err)
	}
	if d, err := ParseDuration("15.5"); err != nil || d != 15500*time.Millisecond {
		t.Errorf("seconds: %v %v", d, err)
	}
}
