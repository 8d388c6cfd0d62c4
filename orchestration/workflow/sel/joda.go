package sel

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The subset of Joda-Time that SEL expressions use, on Go's time: a Joda
// DateTime is an instant (a CEL timestamp) and a zone id, which the
// translator keeps beside it.

func errUnknownZone(id string) error { return fmt.Errorf("unknown time zone %q", id) }

// patElem is one element of a Joda pattern: a field (letter repeated
// count times) or literal text.
type patElem struct {
	letter byte
	count  int
	lit    string
}

// numeric reports whether the element is a field printed as a number.
func (e patElem) numeric() bool {
	switch e.letter {
	case 'y', 'Y', 'x', 'd', 'D', 'H', 'h', 'k', 'K', 'm', 's', 'S', 'w', 'e':
		return true
	case 'M':
		return e.count <= 2
	}
	return false
}

// patternLetters are the Joda pattern letters this package formats.
const patternLetters = "yYxMdDHhkKmsSweEaZz"

// maxPattern bounds a pattern's length so that formatting stays cheap.
const maxPattern = 256

// compilePattern splits a Joda DateTimeFormat pattern into elements.
func compilePattern(p string) ([]patElem, error) {
	if len(p) > maxPattern {
		return nil, fmt.Errorf("date pattern is longer than %d characters", maxPattern)
	}
	var out []patElem
	for i := 0; i < len(p); {
		c := p[i]
		switch {
		case c == '\'':
			j := i + 1
			var lit strings.Builder
			for {
				if j >= len(p) {
					return nil, fmt.Errorf("date pattern %q: quote is not closed", p)
				}
				if p[j] == '\'' {
					if j+1 < len(p) && p[j+1] == '\'' {
						lit.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				lit.WriteByte(p[j])
				j++
			}
			if j == i+1 {
				lit.WriteByte('\'') // '' is a quote
			}
			out = append(out, patElem{lit: lit.String()})
			i = j + 1
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			if !strings.ContainsRune(patternLetters, rune(c)) {
				return nil, fmt.Errorf("date pattern %q: letter %q is not supported", p, c)
			}
			j := i
			for j < len(p) && p[j] == c {
				j++
			}
			out = append(out, patElem{letter: c, count: j - i})
			i = j
		default:
			out = append(out, patElem{lit: string(c)})
			i++
		}
	}
	return out, nil
}

func pad(n int64, width int) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for len(s) < width {
		s = "0" + s
	}
	if neg {
		s = "-" + s
	}
	return s
}

// jodaFormat prints t in loc with a Joda pattern.
func jodaFormat(t time.Time, loc *time.Location, pattern string) (string, error) {
	elems, err := compilePattern(pattern)
	if err != nil {
		return "", err
	}
	t = t.In(loc)
	var b strings.Builder
	for _, e := range elems {
		if e.letter == 0 {
			b.WriteString(e.lit)
			continue
		}
		switch e.letter {
		case 'y', 'Y', 'x':
			y := t.Year()
			if e.letter == 'x' {
				y, _ = t.ISOWeek()
			}
			if e.count == 2 {
				b.WriteString(pad(int64(y%100), 2))
			} else {
				b.WriteString(pad(int64(y), e.count))
			}
		case 'M':
			switch {
			case e.count >= 4:
				b.WriteString(t.Month().String())
			case e.count == 3:
				b.WriteString(t.Month().String()[:3])
			default:
				b.WriteString(pad(int64(t.Month()), e.count))
			}
		case 'd':
			b.WriteString(pad(int64(t.Day()), e.count))
		case 'D':
			b.WriteString(pad(int64(t.YearDay()), e.count))
		case 'w':
			_, w := t.ISOWeek()
			b.WriteString(pad(int64(w), e.count))
		case 'e':
			b.WriteString(pad(int64(isoWeekday(t)), e.count))
		case 'E':
			if e.count >= 4 {
				b.WriteString(t.Weekday().String())
			} else {
				b.WriteString(t.Weekday().String()[:3])
			}
		case 'a':
			if t.Hour() < 12 {
				b.WriteString("AM")
			} else {
				b.WriteString("PM")
			}
		case 'H':
			b.WriteString(pad(int64(t.Hour()), e.count))
		case 'k':
			h := t.Hour()
			if h == 0 {
				h = 24
			}
			b.WriteString(pad(int64(h), e.count))
		case 'h':
			h := t.Hour() % 12
			if h == 0 {
				h = 12
			}
			b.WriteString(pad(int64(h), e.count))
		case 'K':
			b.WriteString(pad(int64(t.Hour()%12), e.count))
		case 'm':
			b.WriteString(pad(int64(t.Minute()), e.count))
		case 's':
			b.WriteString(pad(int64(t.Second()), e.count))
		case 'S':
			ms := pad(int64(t.Nanosecond()/1e6), 3)
			for len(ms) < e.count {
				ms += "0"
			}
			b.WriteString(ms[:e.count])
		case 'Z':
			_, off := t.Zone()
			switch e.count {
			case 1:
				b.WriteString(offset(off, ""))
			case 2:
				b.WriteString(offset(off, ":"))
			default:
				b.WriteString(loc.String())
			}
		case 'z':
			name, _ := t.Zone()
			b.WriteString(name)
		}
	}
	return b.String(), nil
}

func offset(sec int, sep string) string {
	sign := "+"
	if sec < 0 {
		sign, sec = "-", -sec
	}
	return sign + pad(int64(sec/3600), 2) + sep + pad(int64(sec/60%60), 2)
}

// jodaISO prints t in loc as Joda's DateTime.toString() does.
func jodaISO(t time.Time, loc *time.Location) string {
	s, _ := jodaFormat(t, loc, "yyyy-MM-dd'T'HH:mm:ss.SSS")
	_, off := t.In(loc).Zone()
	if off == 0 {
		return s + "Z"
	}
	return s + offset(off, ":")
}

// isoWeekday is Joda's day of week: Monday 1 … Sunday 7.
func isoWeekday(t time.Time) int {
	if t.Weekday() == time.Sunday {
		return 7
	}
	return int(t.Weekday())
}

// jodaParse reads s with a Joda pattern in loc. A numeric field followed
// by another numeric field takes exactly as many digits as the pattern
// has letters (yyyyMMdd), otherwise as many as there are; the whole of s
// must be read.
func jodaParse(s string, loc *time.Location, pattern string) (time.Time, error) {
	elems, err := compilePattern(pattern)
	if err != nil {
		return time.Time{}, err
	}
	bad := func(why string) (time.Time, error) {
		return time.Time{}, fmt.Errorf("cannot parse %q with pattern %q: %s", s, pattern, why)
	}
	year, month, day, hour, minute, sec, ms := 1970, 1, 1, 0, 0, 0, 0
	pm, half := false, false
	zoneOff, hasOff := 0, false
	i := 0
	for k, e := range elems {
		if e.letter == 0 {
			if !strings.HasPrefix(s[i:], e.lit) {
				return bad(fmt.Sprintf("want %q at %d", e.lit, i+1))
			}
			i += len(e.lit)
			continue
		}
		if e.numeric() {
			if (e.letter == 'y' || e.letter == 'Y') && e.count == 2 {
				// Joda reads them relative to the current year.
				return bad("parsing two-digit years is not supported")
			}
			width := 9
			if k+1 < len(elems) && elems[k+1].letter != 0 && elems[k+1].numeric() {
				width = e.count
			}
			j := i
			for j < len(s) && j-i < width && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			if j == i {
				return bad(fmt.Sprintf("want digits at %d", i+1))
			}
			n, _ := strconv.Atoi(s[i:j])
			digits := j - i
			i = j
			switch e.letter {
			case 'y', 'Y':
				year = n
			case 'M':
				month = n
			case 'd':
				day = n
			case 'H':
				hour = n
			case 'k':
				hour = n % 24
			case 'h', 'K':
				hour, half = n%12, true
			case 'm':
				minute = n
			case 's':
				sec = n
			case 'S':
				for d := digits; d < 3; d++ {
					n *= 10
				}
				for d := digits; d > 3; d-- {
					n /= 10
				}
				ms = n
			default:
				return bad(fmt.Sprintf("parsing letter %q is not supported", e.letter))
			}
			continue
		}
		switch e.letter {
		case 'M', 'E':
			names := monthNames
			if e.letter == 'E' {
				names = dayNames
			}
			found := false
			for n, name := range names {
				for _, cand := range []string{name, name[:3]} {
					if len(s)-i >= len(cand) && strings.EqualFold(s[i:i+len(cand)], cand) {
						if e.letter == 'M' {
							month = n + 1
						}
						i += len(cand)
						found = true
						break
					}
				}
				if found {
					break
				}
			}
			if !found {
				return bad(fmt.Sprintf("want a name at %d", i+1))
			}
		case 'a':
			switch {
			case len(s)-i >= 2 && strings.EqualFold(s[i:i+2], "AM"):
			case len(s)-i >= 2 && strings.EqualFold(s[i:i+2], "PM"):
				pm = true
			default:
				return bad(fmt.Sprintf("want AM or PM at %d", i+1))
			}
			i += 2
		case 'Z':
			off, n, ok := parseOffset(s[i:])
			if !ok {
				return bad(fmt.Sprintf("want a zone offset at %d", i+1))
			}
			zoneOff, hasOff, i = off, true, i+n
		default:
			return bad(fmt.Sprintf("parsing letter %q is not supported", e.letter))
		}
	}
	if i != len(s) {
		return bad(fmt.Sprintf("extra text at %d", i+1))
	}
	if half && pm {
		hour += 12
	}
	switch {
	case month < 1 || month > 12:
		return bad(fmt.Sprintf("month %d", month))
	case day < 1 || day > daysIn(year, time.Month(month)):
		return bad(fmt.Sprintf("day %d of month %d", day, month))
	case hour > 23 || minute > 59 || sec > 59:
		return bad("time of day out of range")
	case year < 1 || year > 9999:
		return bad(fmt.Sprintf("year %d", year))
	}
	if hasOff {
		loc = time.FixedZone("", zoneOff)
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, ms*1e6, loc), nil
}

var monthNames = []string{"January", "February", "March", "April", "May", "June", "July",
	"August", "September", "October", "November", "December"}
var dayNames = []string{"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}

// parseOffset reads "Z", "+hh:mm" or "+hhmm".
func parseOffset(s string) (sec, n int, ok bool) {
	if strings.HasPrefix(s, "Z") {
		return 0, 1, true
	}
	if len(s) < 5 || s[0] != '+' && s[0] != '-' {
		return 0, 0, false
	}
	digits := s[1:5]
	n = 5
	if s[3] == ':' && len(s) >= 6 {
		digits, n = s[1:3]+s[4:6], 6
	}
	v, err := strconv.Atoi(digits)
	if err != nil || v < 0 {
		return 0, 0, false
	}
	sec = v/100*3600 + v%100*60
	if s[0] == '-' {
		sec = -sec
	}
	return sec, n, true
}

func daysIn(year int, m time.Month) int {
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// maxJodaAmount bounds the amounts of plusX and minusX (Joda's are ints).
const maxJodaAmount = 1<<31 - 1

// jodaPlus adds n units to t in loc as Joda does: years and months keep
// the day of month unless the month is shorter, days and weeks keep the
// time of day, the rest add a fixed duration.
func jodaPlus(t time.Time, loc *time.Location, unit string, n int64) (time.Time, error) {
	if n > maxJodaAmount || n < -maxJodaAmount-1 {
		return time.Time{}, fmt.Errorf("%d %s is out of range of a Java int", n, unit)
	}
	t = t.In(loc)
	var out time.Time
	switch unit {
	case "years", "months":
		months := n
		if unit == "years" {
			months = n * 12
		}
		total := int64(t.Year())*12 + int64(t.Month()-1) + months
		if total < 0 || total > 10000*12 {
			return time.Time{}, fmt.Errorf("DateTime out of range")
		}
		y, m := int(total/12), time.Month(total%12+1)
		d := min(t.Day(), daysIn(y, m))
		out = time.Date(y, m, d, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), loc)
	case "weeks", "days":
		days := n
		if unit == "weeks" {
			days = n * 7
		}
		out = t.AddDate(0, 0, int(days))
	default:
		per := map[string]time.Duration{"hours": time.Hour, "minutes": time.Minute, "seconds": time.Second, "millis": time.Millisecond}[unit]
		out = t.Add(time.Duration(n) * per)
	}
	if out.Year() < 1 || out.Year() > 9999 {
		return time.Time{}, fmt.Errorf("DateTime out of range")
	}
	return out, nil
}

// jodaGet reads a Joda field of t in loc.
func jodaGet(t time.Time, loc *time.Location, field string) (int64, error) {
	t = t.In(loc)
	midnight := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
	ofDay := t.Sub(midnight)
	switch field {
	case "year":
		return int64(t.Year()), nil
	case "weekyear":
		y, _ := t.ISOWeek()
		return int64(y), nil
	case "weekOfWeekyear":
		_, w := t.ISOWeek()
		return int64(w), nil
	case "monthOfYear":
		return int64(t.Month()), nil
	case "dayOfYear":
		return int64(t.YearDay()), nil
	case "dayOfMonth":
		return int64(t.Day()), nil
	case "dayOfWeek":
		return int64(isoWeekday(t)), nil
	case "hourOfDay":
		return int64(t.Hour()), nil
	case "minuteOfDay":
		return int64(t.Hour()*60 + t.Minute()), nil
	case "minuteOfHour":
		return int64(t.Minute()), nil
	case "secondOfDay":
		return int64(t.Hour()*3600 + t.Minute()*60 + t.Second()), nil
	case "secondOfMinute":
		return int64(t.Second()), nil
	case "millisOfDay":
		return ofDay.Milliseconds(), nil
	case "millisOfSecond":
		return int64(t.Nanosecond() / 1e6), nil
	}
	return 0, fmt.Errorf("DateTime field %s is not supported", field)
}

// jodaText is a Property's getAsText (short: getAsShortText) in English.
func jodaText(t time.Time, loc *time.Location, field string, short bool) (string, error) {
	t = t.In(loc)
	var s string
	switch field {
	case "monthOfYear":
		s = t.Month().String()
	case "dayOfWeek":
		s = t.Weekday().String()
	default:
		n, err := jodaGet(t, loc, field)
		return strconv.FormatInt(n, 10), err
	}
	if short {
		s = s[:3]
	}
	return s, nil
}

// jodaWith sets a Joda field of t in loc, refusing a value outside the
// field's range as Joda does.
func jodaWith(t time.Time, loc *time.Location, field string, v int64) (time.Time, error) {
	t = t.In(loc)
	y, m, d := t.Date()
	h, mi, s, ns := t.Hour(), t.Minute(), t.Second(), t.Nanosecond()
	check := func(lo, hi int64) error {
		if v < lo || v > hi {
			return fmt.Errorf("value %d for %s must be in the range [%d,%d]", v, field, lo, hi)
		}
		return nil
	}
	var err error
	switch field {
	case "year":
		if err = check(1, 9999); err == nil {
			y = int(v)
			d = min(d, daysIn(y, m))
		}
	case "monthOfYear":
		if err = check(1, 12); err == nil {
			m = time.Month(v)
			d = min(d, daysIn(y, m))
		}
	case "dayOfMonth":
		if err = check(1, int64(daysIn(y, m))); err == nil {
			d = int(v)
		}
	case "dayOfYear":
		last := int64(time.Date(y, 12, 31, 0, 0, 0, 0, time.UTC).YearDay())
		if err = check(1, last); err == nil {
			m, d = 1, int(v)
		}
	case "dayOfWeek":
		if err = check(1, 7); err == nil {
			d += int(v) - isoWeekday(t)
		}
	case "hourOfDay":
		if err = check(0, 23); err == nil {
			h = int(v)
		}
	case "minuteOfHour":
		if err = check(0, 59); err == nil {
			mi = int(v)
		}
	case "secondOfMinute":
		if err = check(0, 59); err == nil {
			s = int(v)
		}
	case "millisOfSecond":
		if err = check(0, 999); err == nil {
			ns = int(v) * 1e6
		}
	case "millisOfDay":
		if err = check(0, 86_399_999); err == nil {
			h, mi, s, ns = int(v/3_600_000), int(v/60_000%60), int(v/1000%60), int(v%1000)*1e6
		}
	default:
		err = fmt.Errorf("DateTime.with for %s is not supported", field)
	}
	if err != nil {
		return time.Time{}, err
	}
	return time.Date(y, m, d, h, mi, s, ns, loc), nil
}

// jodaDaysBetween is Joda's Days.daysBetween: whole days from a to b,
// counted on the calendar of loc.
func jodaDaysBetween(a, b time.Time, loc *time.Location) int64 {
	a, b = a.In(loc), b.In(loc)
	n := int(b.Sub(a).Hours() / 24)
	for n > 0 && a.AddDate(0, 0, n).After(b) {
		n--
	}
	for n < 0 && a.AddDate(0, 0, n).Before(b) {
		n++
	}
	for !a.AddDate(0, 0, n+1).After(b) && b.After(a) {
		n++
	}
	for !a.AddDate(0, 0, n-1).Before(b) && b.Before(a) {
		n--
	}
	return int64(n)
}
