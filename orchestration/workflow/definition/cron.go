package definition

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

var cronParser = cron.NewParser(cron.Second | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

var predefined = map[string]string{"@yearly": "0 0 0 1 1 *", "@annually": "0 0 0 1 1 *", "@monthly": "0 0 0 1 * *",
	"@weekly": "0 0 0 * * 0", "@daily": "0 0 0 * * *", "@midnight": "0 0 0 * * *", "@hourly": "0 0 * * * *"}

// Schedule returns the trigger's schedule in its time zone (UTC when
// none). Cron takes 5 fields (minute first), or Quartz's 6 or 7 (second
// first, "?" for no day, 1–7 for Sunday–Saturday, a year that must be
// "*"); PREDEFINED takes @yearly, @monthly, @weekly, @daily or @hourly.
func (t TimeTrigger) Schedule() (cron.Schedule, *time.Location, error) {
	loc := time.UTC
	if t.TimeZone != "" {
		l, err := time.LoadLocation(t.TimeZone)
		if err != nil {
			return nil, nil, fmt.Errorf("timezone %q: unknown", t.TimeZone)
		}
		loc = l
	}
	var spec string
	switch strings.ToUpper(t.Type) {
	case "CRON", "":
		if t.Cron == "" {
			return nil, nil, fmt.Errorf("cron: missing")
		}
		s, err := quartzToSeconds(t.Cron)
		if err != nil {
			return nil, nil, fmt.Errorf("cron %q: %w", t.Cron, err)
		}
		spec = s
	case "PREDEFINED":
		s, ok := predefined[strings.ToLower(t.Expression)]
		if !ok {
			return nil, nil, fmt.Errorf("expression %q: want @yearly, @monthly, @weekly, @daily or @hourly", t.Expression)
		}
		spec = s
	default:
		return nil, nil, fmt.Errorf("type %q: want CRON or PREDEFINED", t.Type)
	}
	sched, err := cronParser.Parse(spec)
	if err != nil {
		return nil, nil, fmt.Errorf("cron %q: %w", t.Cron, err)
	}
	return sched, loc, nil
}

// quartzToSeconds turns a 5-, 6- or 7-field cron into robfig's six
// fields, second first.
func quartzToSeconds(spec string) (string, error) {
	f := strings.Fields(spec)
	quartz := true
	switch len(f) {
	case 5:
		f = append([]string{"0"}, f...)
		quartz = false
	case 6:
	case 7:
		if f[6] != "*" && f[6] != "?" {
			return "", fmt.Errorf("a year field other than * is not supported")
		}
		f = f[:6]
	default:
		return "", fmt.Errorf("want 5 fields (minute hour day month weekday) or Quartz's 6 or 7, got %d", len(f))
	}
	for i := range f {
		if f[i] == "?" {
			f[i] = "*"
		}
	}
	if quartz {
		dow, err := quartzWeekdays(f[5])
		if err != nil {
			return "", err
		}
		f[5] = dow
	}
	return strings.Join(f, " "), nil
}

// quartzWeekdays maps Quartz's 1–7 (Sunday first) to 0–6.
func quartzWeekdays(field string) (string, error) {
	if field == "*" {
		return field, nil
	}
	out := []byte{}
	num := ""
	flush := func() error {
		if num == "" {
			return nil
		}
		n, err := strconv.Atoi(num)
		if err != nil || n < 1 || n > 7 {
			return fmt.Errorf("weekday %q: Quartz numbers days 1 (Sunday) to 7", num)
		}
		out = strconv.AppendInt(out, int64(n-1), 10)
		num = ""
		return nil
	}
	for i := 0; i < len(field); i++ {
		c := field[i]
		if c >= '0' && c <= '9' {
			num += string(c)
			continue
		}
		if err := flush(); err != nil {
			return "", err
		}
		if c == '/' { // the step after a slash is a count, not a day
			j := i + 1
			for j < len(field) && field[j] >= '0' && field[j] <= '9' {
				j++
			}
			out = append(out, field[i:j]...)
			i = j - 1
			continue
		}
		out = append(out, c)
	}
	if err := flush(); err != nil {
		return "", err
	}
	return string(out), nil
}
