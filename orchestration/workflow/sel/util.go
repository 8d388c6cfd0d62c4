package sel

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"

	"github.com/gaffer-sre/gaffer/internal/platform/celbudget"
)

// Maestro's Util functions. Dates are "date ints", yyyyMMdd, as a long
// or a String; timestamps are milliseconds since the epoch.

const dateIntPattern = "yyyyMMdd"

func wrap(v any, err error) ref.Val {
	if err != nil {
		return types.WrapErr(err)
	}
	switch x := v.(type) {
	case int64:
		return types.Int(x)
	case string:
		return types.String(x)
	case []int64:
		return types.NewDynamicList(types.DefaultTypeAdapter, x)
	case time.Time:
		return types.Timestamp{Time: x.UTC()}
	}
	return types.NewErr("internal: unexpected %T", v)
}

func parseDateInt(v ref.Val) (time.Time, error) {
	s, err := javaString(v)
	if err != nil {
		return time.Time{}, err
	}
	return jodaParse(s, time.UTC, dateIntPattern)
}

// javaInt is SEL's intVal: the long truncated to a Java int.
func javaInt(v ref.Val) (int64, error) {
	n, err := javaLong(v)
	return int64(int32(n)), err
}

// listMeter bounds the elements the Util functions build in one
// evaluation, together, by the budget's size limit: without it a SEL
// expression could call them many times, each within the limit.
type listMeter struct {
	max, built int64
}

func (m *listMeter) take(fn string, n int64) error {
	if m.built+n > m.max {
		return &celbudget.ExceededError{Limit: "size", Max: fmt.Sprintf("%d units", m.max),
			Detail: fmt.Sprintf("%s would build a list of %d elements, %d with the lists built before", fn, n, m.built+n)}
	}
	m.built += n
	return nil
}

// utilFuncs declares Maestro's Util functions; those that build lists or
// read the clock are bound per evaluation (see Program.activation).
func utilFuncs() []cel.EnvOption {
	return []cel.EnvOption{
		fn("Util.dateIntsBetween", late("util_dateIntsBetween", []*cel.Type{dyn, dyn, dyn}, listOf(intT))),
		fn("Util.intsBetween", late("util_intsBetween", []*cel.Type{dyn, dyn, dyn}, listOf(intT))),
		fn("Util.timeoutForDateTimeDeadline", late("util_timeoutForDateTimeDeadline", []*cel.Type{ts, dyn}, str)),
		fn("Util.timeoutForDateIntDeadline", late("util_timeoutForDateIntDeadline", []*cel.Type{dyn, dyn}, str)),
		fn("Util.dateIntHourToTs", bound("util_dateIntHourToTs", []*cel.Type{dyn, dyn, dyn, dyn, dyn}, intT, func(a ...ref.Val) ref.Val {
			return wrap(dateIntHourToTs(a))
		})),
		fn("Util.dateIntToTs", bound("util_dateIntToTs", []*cel.Type{dyn}, intT, func(a ...ref.Val) ref.Val {
			t, err := parseDateInt(a[0])
			return wrap(t.UnixMilli(), err)
		})),
		fn("Util.tsToDateInt", bound("util_tsToDateInt", []*cel.Type{dyn}, str, func(a ...ref.Val) ref.Val {
			ms, err := javaLong(a[0])
			if err != nil {
				return types.WrapErr(err)
			}
			return wrap(jodaFormat(time.UnixMilli(ms), time.UTC, dateIntPattern))
		})),
		fn("Util.incrementDateInt", bound("util_incrementDateInt", []*cel.Type{dyn, dyn}, str, func(a ...ref.Val) ref.Val {
			t, err := parseDateInt(a[0])
			if err != nil {
				return types.WrapErr(err)
			}
			days, ok := a[1].(types.Int)
			if !ok {
				return types.NewErr("Util.incrementDateInt: days must be a long, not a %s", javaType(a[1]))
			}
			t, err = jodaPlus(t, time.UTC, "days", int64(int32(days)))
			if err != nil {
				return types.WrapErr(err)
			}
			return wrap(jodaFormat(t, time.UTC, dateIntPattern))
		})),
	}
}

// dateIntsBetween lists the date ints from from (inclusive) to to
// (exclusive) every |step| days; a negative step lists the same days
// from the other end, newest first.
func dateIntsBetween(from, to, step ref.Val, m *listMeter) ([]int64, error) {
	inc, err := javaInt(step)
	if err != nil {
		return nil, fmt.Errorf("Util.dateIntsBetween step: %w", err)
	}
	switch {
	case inc == 0:
		return nil, fmt.Errorf("Util.dateIntsBetween: invalid step 0")
	case inc < 0:
		from, to = to, from
	}
	d1, err := parseDateInt(from)
	if err != nil {
		return nil, fmt.Errorf("Util.dateIntsBetween: %w", err)
	}
	d2, err := parseDateInt(to)
	if err != nil {
		return nil, fmt.Errorf("Util.dateIntsBetween: %w", err)
	}
	days := jodaDaysBetween(d1, d2, time.UTC)
	abs := inc
	if abs < 0 {
		abs = -abs
	}
	if days <= 0 {
		return []int64{}, nil
	}
	if err := m.take("Util.dateIntsBetween", (days+abs-1)/abs); err != nil {
		return nil, err
	}
	out := make([]int64, 0, (days+abs-1)/abs)
	for i := int64(0); i < days; i += abs {
		d := d1.AddDate(0, 0, int(i))
		out = append(out, int64(d.Year()*10000+int(d.Month())*100+d.Day()))
	}
	if inc < 0 {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	return out, nil
}

// intsBetween lists the ints from from (inclusive) towards to
// (exclusive) by step. Maestro loops forever on step 0 with from > to;
// here that is an error.
func intsBetween(from, to, step ref.Val, m *listMeter) ([]int64, error) {
	var d [3]int64
	for i, v := range []ref.Val{from, to, step} {
		n, err := javaInt(v)
		if err != nil {
			return nil, fmt.Errorf("Util.intsBetween: %w", err)
		}
		d[i] = n
	}
	d1, d2, inc := d[0], d[1], d[2]
	var n int64
	switch {
	case inc > 0 && d1 < d2:
		n = (d2 - d1 + inc - 1) / inc
	case inc < 0 && d1 > d2:
		n = (d1 - d2 - inc - 1) / -inc
	case inc == 0 && d1 > d2:
		return nil, fmt.Errorf("Util.intsBetween: step 0 never reaches %d from %d", d2, d1)
	}
	if err := m.take("Util.intsBetween", n); err != nil {
		return nil, err
	}
	out := make([]int64, n)
	for i := range out {
		out[i] = d1 + int64(i)*inc
	}
	return out, nil
}

// dateIntHourToTs is the millisecond timestamp of a date int and an hour
// in a zone, less a number of days and hours.
func dateIntHourToTs(a []ref.Val) (int64, error) {
	var s [3]string
	for i := range s {
		v, err := javaString(a[i])
		if err != nil {
			return 0, err
		}
		s[i] = v
	}
	loc, err := zone(s[2])
	if err != nil {
		return 0, fmt.Errorf("Util.dateIntHourToTs: %w", err)
	}
	t, err := jodaParse(s[0]+s[1], loc, "yyyyMMddHH")
	if err != nil {
		return 0, fmt.Errorf("Util.dateIntHourToTs: %w", err)
	}
	days, err := javaInt(a[3])
	if err != nil {
		return 0, fmt.Errorf("Util.dateIntHourToTs days: %w", err)
	}
	hours, err := javaInt(a[4])
	if err != nil {
		return 0, fmt.Errorf("Util.dateIntHourToTs hours: %w", err)
	}
	if t, err = jodaPlus(t, loc, "days", -days); err != nil {
		return 0, err
	}
	if t, err = jodaPlus(t, loc, "hours", -hours); err != nil {
		return 0, err
	}
	return t.UnixMilli(), nil
}

// zones caches loaded time zones.
var zones sync.Map // id → *time.Location

func zone(id string) (*time.Location, error) {
	if loc, ok := zones.Load(id); ok {
		return loc.(*time.Location), nil
	}
	loc, err := loadZone(id)
	if err != nil {
		return nil, err
	}
	zones.Store(id, loc)
	return loc, nil
}

// jodaFuncs are the functions Joda translations call; a DateTime is a
// timestamp and the id of its zone.
func jodaFuncs() []cel.EnvOption {
	tsZone := func(a []ref.Val) (time.Time, *time.Location, error) {
		t, ok := a[0].(types.Timestamp)
		if !ok {
			return time.Time{}, nil, fmt.Errorf("want a DateTime, got a %s", javaType(a[0]))
		}
		id, err := javaString(a[1])
		if err != nil {
			return time.Time{}, nil, err
		}
		loc, err := zone(id)
		return t.Time, loc, err
	}
	plus := func(sign int64) func(a ...ref.Val) ref.Val {
		return func(a ...ref.Val) ref.Val {
			t, loc, err := tsZone(a)
			if err != nil {
				return types.WrapErr(err)
			}
			n, ok := a[3].(types.Int)
			if !ok {
				return types.NewErr("DateTime amount must be a long, not a %s", javaType(a[3]))
			}
			return wrap(jodaPlus(t, loc, string(a[2].(types.String)), sign*int64(n)))
		}
	}
	return []cel.EnvOption{
		fn("joda.fromMillis", bound("joda_fromMillis", []*cel.Type{dyn}, ts, func(a ...ref.Val) ref.Val {
			ms, err := javaLong(a[0])
			if err != nil {
				return types.WrapErr(err)
			}
			t := time.UnixMilli(ms).UTC()
			if t.Year() < 1 || t.Year() > 9999 {
				return types.NewErr("DateTime %d ms is out of range", ms)
			}
			return types.Timestamp{Time: t}
		})),
		fn("joda.millis", bound("joda_millis", []*cel.Type{ts}, intT, func(a ...ref.Val) ref.Val {
			return types.Int(a[0].(types.Timestamp).UnixMilli())
		})),
		fn("joda.plus", bound("joda_plus", []*cel.Type{ts, dyn, str, dyn}, ts, plus(1))),
		fn("joda.minus", bound("joda_minus", []*cel.Type{ts, dyn, str, dyn}, ts, plus(-1))),
		fn("joda.format", bound("joda_format", []*cel.Type{ts, dyn, dyn}, str, func(a ...ref.Val) ref.Val {
			t, loc, err := tsZone(a)
			if err != nil {
				return types.WrapErr(err)
			}
			p, err := javaString(a[2])
			if err != nil {
				return types.WrapErr(err)
			}
			return wrap(jodaFormat(t, loc, p))
		})),
		fn("joda.iso", bound("joda_iso", []*cel.Type{ts, dyn}, str, func(a ...ref.Val) ref.Val {
			t, loc, err := tsZone(a)
			if err != nil {
				return types.WrapErr(err)
			}
			return types.String(jodaISO(t, loc))
		})),
		fn("joda.parse", bound("joda_parse", []*cel.Type{dyn, dyn, dyn}, ts, func(a ...ref.Val) ref.Val {
			s, err := javaString(a[0])
			if err != nil {
				return types.WrapErr(err)
			}
			p, err := javaString(a[1])
			if err != nil {
				return types.WrapErr(err)
			}
			id, err := javaString(a[2])
			if err != nil {
				return types.WrapErr(err)
			}
			loc, err := zone(id)
			if err != nil {
				return types.WrapErr(err)
			}
			t, err := jodaParse(s, loc, p)
			if err != nil {
				return types.WrapErr(err)
			}
			return types.Timestamp{Time: t.UTC()}
		})),
		fn("joda.get", bound("joda_get", []*cel.Type{ts, dyn, str}, intT, func(a ...ref.Val) ref.Val {
			t, loc, err := tsZone(a)
			if err != nil {
				return types.WrapErr(err)
			}
			return wrap(jodaGet(t, loc, string(a[2].(types.String))))
		})),
		fn("joda.text", bound("joda_text", []*cel.Type{ts, dyn, str}, str, func(a ...ref.Val) ref.Val {
			t, loc, err := tsZone(a)
			if err != nil {
				return types.WrapErr(err)
			}
			return wrap(jodaText(t, loc, string(a[2].(types.String)), false))
		})),
		fn("joda.shortText", bound("joda_shortText", []*cel.Type{ts, dyn, str}, str, func(a ...ref.Val) ref.Val {
			t, loc, err := tsZone(a)
			if err != nil {
				return types.WrapErr(err)
			}
			return wrap(jodaText(t, loc, string(a[2].(types.String)), true))
		})),
		fn("joda.startOfDay", bound("joda_startOfDay", []*cel.Type{ts, dyn}, ts, func(a ...ref.Val) ref.Val {
			t, loc, err := tsZone(a)
			if err != nil {
				return types.WrapErr(err)
			}
			l := t.In(loc)
			return types.Timestamp{Time: time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, loc).UTC()}
		})),
		fn("joda.with", bound("joda_with", []*cel.Type{ts, dyn, str, dyn}, ts, func(a ...ref.Val) ref.Val {
			t, loc, err := tsZone(a)
			if err != nil {
				return types.WrapErr(err)
			}
			n, err := javaInt(a[3])
			if err != nil {
				return types.WrapErr(err)
			}
			t, err = jodaWith(t, loc, string(a[2].(types.String)), n)
			if err != nil {
				return types.WrapErr(err)
			}
			return types.Timestamp{Time: t.UTC()}
		})),
		fn("joda.daysBetween", bound("joda_daysBetween", []*cel.Type{ts, ts, dyn}, intT, func(a ...ref.Val) ref.Val {
			id, err := javaString(a[2])
			if err != nil {
				return types.WrapErr(err)
			}
			loc, err := zone(id)
			if err != nil {
				return types.WrapErr(err)
			}
			return types.Int(jodaDaysBetween(a[0].(types.Timestamp).Time, a[1].(types.Timestamp).Time, loc))
		})),
	}
}

// periodUnits are the units of Joda's English word-based periods that
// have a standard duration (years and months have none).
var periodUnits = map[string]time.Duration{
	"week": 7 * 24 * time.Hour, "day": 24 * time.Hour, "hour": time.Hour, "minute": time.Minute,
	"second": time.Second, "millisecond": time.Millisecond,
}

// parseWordPeriod reads a period as Joda's PeriodFormat.wordBased()
// writes it ("1 day, 2 hours and 30 minutes") as a duration.
func parseWordPeriod(s string) (time.Duration, error) {
	parts := strings.Fields(strings.NewReplacer(",", " ", " and ", " ").Replace(" " + s + " "))
	if len(parts) == 0 || len(parts)%2 != 0 {
		return 0, fmt.Errorf("period %q: want amounts and units, such as \"1 day and 2 hours\"", s)
	}
	var total time.Duration
	for i := 0; i < len(parts); i += 2 {
		n, err := strconv.ParseInt(parts[i], 10, 32)
		if err != nil {
			return 0, fmt.Errorf("period %q: %q is not a number", s, parts[i])
		}
		unit := strings.TrimSuffix(parts[i+1], "s")
		per, ok := periodUnits[unit]
		if !ok {
			if unit == "year" || unit == "month" {
				return 0, fmt.Errorf("period %q: %ss have no fixed duration", s, unit)
			}
			return 0, fmt.Errorf("period %q: unknown unit %q", s, parts[i+1])
		}
		total += time.Duration(n) * per
	}
	return total, nil
}

// timeoutForDeadline is the time left until deadline plus the period,
// as Maestro prints it ("N milliseconds"), never negative.
func timeoutForDeadline(deadline time.Time, period ref.Val, now time.Time) ref.Val {
	p, err := javaString(period)
	if err != nil {
		return types.WrapErr(err)
	}
	d, err := parseWordPeriod(p)
	if err != nil {
		return types.WrapErr(err)
	}
	left := max(deadline.Add(d).Sub(now).Milliseconds(), 0)
	return types.String(strconv.FormatInt(left, 10) + " milliseconds")
}
