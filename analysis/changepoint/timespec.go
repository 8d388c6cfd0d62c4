package changepoint

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Defaults of the series endpoint's time range, as Atlas's.
const (
	defaultStart = "e-3h"
	defaultEnd   = "now"
)

// parseRange resolves the s and e parameters against now. Each is an RFC
// 3339 time, unix seconds (milliseconds above 10^11, as Atlas reads them),
// or a reference — now, or the other end (e in s, s in e) — optionally
// followed by +duration or -duration, such as e-3h or now-1d.
func parseRange(s, e string, now time.Time) (start, end time.Time, err error) {
	if s == "" {
		s = defaultStart
	}
	if e == "" {
		e = defaultEnd
	}
	sRef, sOff, sAbs, err := parseTime(s)
	if err != nil {
		return start, end, fmt.Errorf("s: %w", err)
	}
	eRef, eOff, eAbs, err := parseTime(e)
	if err != nil {
		return start, end, fmt.Errorf("e: %w", err)
	}
	switch {
	case sRef == "s":
		return start, end, fmt.Errorf("s: %q refers to itself", s)
	case eRef == "e":
		return start, end, fmt.Errorf("e: %q refers to itself", e)
	case sRef == "e" && eRef == "s":
		return start, end, fmt.Errorf("s and e refer to each other (%q, %q)", s, e)
	}
	resolve := func(ref string, off time.Duration, abs time.Time, other time.Time) time.Time {
		switch ref {
		case "now":
			return now.Add(off)
		case "":
			return abs
		}
		return other.Add(off)
	}
	if sRef == "e" {
		end = resolve(eRef, eOff, eAbs, time.Time{})
		start = resolve(sRef, sOff, sAbs, end)
	} else {
		start = resolve(sRef, sOff, sAbs, time.Time{})
		end = resolve(eRef, eOff, eAbs, start)
	}
	if !start.Before(end) {
		return start, end, fmt.Errorf("s (%s) must be before e (%s)", start.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339))
	}
	return start, end, nil
}

// parseTime reads one time: a reference with an offset, or an absolute
// time (ref "").
func parseTime(v string) (ref string, off time.Duration, abs time.Time, err error) {
	v = strings.TrimSpace(v)
	for _, r := range []string{"now", "s", "e"} {
		if !strings.HasPrefix(v, r) {
			continue
		}
		rest := v[len(r):]
		if rest == "" {
			return r, 0, abs, nil
		}
		if rest[0] != '+' && rest[0] != '-' {
			continue
		}
		d, err := parseDuration(rest[1:])
		if err != nil {
			return "", 0, abs, err
		}
		if rest[0] == '-' {
			d = -d
		}
		return r, d, abs, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return "", 0, t, nil
	}
	if t, err := time.Parse("2006-01-02", v); err == nil {
		return "", 0, t, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return "", 0, abs, fmt.Errorf("%q is not a time: want RFC 3339, unix seconds, or now/s/e with an optional +/- duration (e-3h)", v)
	}
	if math.Abs(f) > 1e11 {
		return "", 0, time.UnixMilli(int64(f)), nil
	}
	sec, frac := math.Modf(f)
	return "", 0, time.Unix(int64(sec), int64(frac*1e9)), nil
}

var durationUnits = []struct {
	suffix string
	d      time.Duration
}{
	// Longer suffixes first, so that "ms" is not read as "m".
	{"ms", time.Millisecond}, {"y", 365 * 24 * time.Hour}, {"w", 7 * 24 * time.Hour},
	{"d", 24 * time.Hour}, {"h", time.Hour}, {"m", time.Minute}, {"s", time.Second},
}

// parseDuration reads a Prometheus duration such as 90s, 1h30m, 2d or 1w,
// or a bare number of seconds.
func parseDuration(v string) (time.Duration, error) {
	if v == "" {
		return 0, fmt.Errorf("empty duration")
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		if !(f >= 0 && f < 1e9) {
			return 0, fmt.Errorf("duration %q out of range", v)
		}
		return time.Duration(f * float64(time.Second)), nil
	}
	var total time.Duration
	rest := v
	for rest != "" {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 || i > 9 {
			return 0, fmt.Errorf("%q is not a duration: want a number of seconds or units such as 90s, 5m, 1h30m, 2d, 1w", v)
		}
		n, _ := strconv.Atoi(rest[:i])
		rest = rest[i:]
		matched := false
		for _, u := range durationUnits {
			if strings.HasPrefix(rest, u.suffix) {
				total += time.Duration(n) * u.d
				rest = rest[len(u.suffix):]
				matched = true
				break
			}
		}
		if !matched {
			return 0, fmt.Errorf("%q is not a duration: unknown unit in %q (want ms, s, m, h, d, w or y)", v, rest)
		}
	}
	return total, nil
}
