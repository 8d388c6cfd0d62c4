package stack

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// maxDuration bounds durations (time.Duration holds 292 years).
const maxDuration = 100 * 366 * 24 * time.Hour

var simpleDuration = regexp.MustCompile(`^(\d+)\s*(ms|s|second|seconds|m|min|mins|minute|minutes|h|hour|hours|d|day|days|w|week|weeks|month|months|y|year|years)$`)
var isoDuration = regexp.MustCompile(`^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$`)

// ParseDuration parses Atlas's durations: a positive integer and a unit
// (s, m/min, h, d, w, month = 30 days, y = 365 days, in singular or plural)
// or an ISO-8601 duration with days at most ("P1DT37M", "PT5H6M").
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if m := simpleDuration.FindStringSubmatch(s); m != nil {
		n, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil || n > 100*366*24*3600 {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		unit := map[string]time.Duration{"ms": time.Millisecond, "s": time.Second, "second": time.Second, "seconds": time.Second,
			"m": time.Minute, "min": time.Minute, "mins": time.Minute, "minute": time.Minute, "minutes": time.Minute,
			"h": time.Hour, "hour": time.Hour, "hours": time.Hour, "d": 24 * time.Hour, "day": 24 * time.Hour, "days": 24 * time.Hour,
			"w": 7 * 24 * time.Hour, "week": 7 * 24 * time.Hour, "weeks": 7 * 24 * time.Hour,
			"month": 30 * 24 * time.Hour, "months": 30 * 24 * time.Hour,
			"y": 365 * 24 * time.Hour, "year": 365 * 24 * time.Hour, "years": 365 * 24 * time.Hour}[m[2]]
		if time.Duration(n) > maxDuration/unit {
			return 0, fmt.Errorf("invalid duration %q: longer than 100 years", s)
		}
		return time.Duration(n) * unit, nil
	}
	if m := isoDuration.FindStringSubmatch(strings.ToUpper(s)); m != nil && s != "P" && !strings.HasSuffix(strings.ToUpper(s), "T") {
		var d time.Duration
		for i, unit := range []time.Duration{24 * time.Hour, time.Hour, time.Minute} {
			if m[i+1] != "" {
				n, err := strconv.ParseInt(m[i+1], 10, 64)
				if err != nil || n > 100*366*24 {
					return 0, fmt.Errorf("invalid duration %q", s)
				}
				d += time.Duration(n) * unit
			}
		}
		if m[4] != "" {
			f, _ := strconv.ParseFloat(m[4], 64)
			d += time.Duration(f * float64(time.Second))
		}
		return d, nil
	}
	return 0, fmt.Errorf("invalid duration %q: want e.g. 5m, 3h, 1w or PT1H", s)
}

var absoluteTime = regexp.MustCompile(`^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(Z|[+-]\d{2}:?\d{2})?$`)

// ParseTime parses one of Atlas's time values: a named time (now, epoch,
// or a reference such as s, e, gs, ge given in refs), optionally followed
// by +/- a duration ("now-1w", "e-3h", "s+P2DT6H5M"); an ISO date or date
// time in zone unless it carries its own offset ("2012-01-01T07:00",
// "2012-01-12T01:37:27Z"); or seconds (≤ 2^31) or milliseconds since the
// epoch.
func ParseTime(s string, zone *time.Location, now time.Time, refs map[string]time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if zone == nil {
		zone = time.UTC
	}
	if m := absoluteTime.FindStringSubmatch(s); m != nil {
		return parseAbsolute(m, zone)
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n <= 1<<31 {
			return time.Unix(n, 0).In(zone), nil
		}
		return time.UnixMilli(n).In(zone), nil
	}
	name, off, sign := s, "", 0
	if i := strings.IndexAny(s, "+-"); i > 0 {
		name, off = s[:i], s[i+1:]
		sign = 1
		if s[i] == '-' {
			sign = -1
		}
	}
	var base time.Time
	switch name {
	case "now":
		base = now
	case "epoch":
		base = time.Unix(0, 0)
	default:
		t, ok := refs[name]
		if !ok {
			if name == "s" || name == "e" {
				return time.Time{}, fmt.Errorf("invalid time %q: %s cannot refer to itself", s, name)
			}
			return time.Time{}, fmt.Errorf("invalid time %q: want now, epoch, s, e, an ISO date or a Unix time, with an optional ±duration", s)
		}
		base = t
	}
	if sign == 0 {
		return base.In(zone), nil
	}
	d, err := ParseDuration(off)
	if err != nil {
		return time.Time{}, fmt.Errorf("invalid time %q: %w", s, err)
	}
	return base.Add(time.Duration(sign) * d).In(zone), nil
}

func parseAbsolute(m []string, zone *time.Location) (time.Time, error) {
	atoi := func(s string) int { n, _ := strconv.Atoi(s); return n }
	loc := zone
	if z := m[8]; z != "" {
		if z == "Z" {
			loc = time.UTC
		} else {
			z = strings.ReplaceAll(z, ":", "")
			h, mm := atoi(z[1:3]), atoi(z[3:5])
			off := (h*60 + mm) * 60
			if z[0] == '-' {
				off = -off
			}
			loc = time.FixedZone(m[8], off)
		}
	}
	nanos := 0
	if m[7] != "" {
		nanos = atoi((m[7] + "000000000")[:9])
	}
	y, mo, d := atoi(m[1]), atoi(m[2]), atoi(m[3])
	h, mi, sec := atoi(m[4]), atoi(m[5]), atoi(m[6])
	t := time.Date(y, time.Month(mo), d, h, mi, sec, nanos, loc)
	if t.Month() != time.Month(mo) || t.Day() != d || h > 23 || mi > 59 || sec > 59 {
		return time.Time{}, fmt.Errorf("invalid date %q", m[0])
	}
	return t, nil
}

// ParseTimeRange resolves a graph's start and end, either of which may
// refer to the other (s=e-3h, or e=s+1h) but not both.
func ParseTimeRange(s, e string, zone *time.Location, now time.Time) (time.Time, time.Time, error) {
	return ParseTimeRangeRefs(s, e, zone, now, nil)
}

// ParseTimeRangeRefs is ParseTimeRange with extra named times.
func ParseTimeRangeRefs(s, e string, zone *time.Location, now time.Time, refs map[string]time.Time) (time.Time, time.Time, error) {
	with := func(k string, t time.Time) map[string]time.Time {
		out := map[string]time.Time{k: t}
		for n, v := range refs {
			out[n] = v
		}
		return out
	}
	sRel, eRel := refersTo(s, "e"), refersTo(e, "s")
	switch {
	case sRel && eRel:
		return time.Time{}, time.Time{}, fmt.Errorf("start %q and end %q are relative to each other", s, e)
	case sRel:
		end, err := ParseTime(e, zone, now, refs)
		if err != nil {
			return time.Time{}, time.Time{}, fmt.Errorf("end: %w", err)
		}
		start, err := ParseTime(s, zone, now, with("e", end))
		if err != nil {
			return time.Time{}, time.Time{}, fmt.Errorf("start: %w", err)
		}
		return start, end, nil
	default:
		start, err := ParseTime(s, zone, now, refs)
		if err != nil {
			return time.Time{}, time.Time{}, fmt.Errorf("start: %w", err)
		}
		end, err := ParseTime(e, zone, now, with("s", start))
		if err != nil {
			return time.Time{}, time.Time{}, fmt.Errorf("end: %w", err)
		}
		return start, end, nil
	}
}

func refersTo(s, name string) bool {
	s = strings.TrimSpace(s)
	return s == name || strings.HasPrefix(s, name+"-") || strings.HasPrefix(s, name+"+")
}
