package ingest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

// ImportSample is one sample read from a file.
type ImportSample struct {
	Labels tsdb.Labels
	T      int64
	V      float64
}

// SampleReader reads samples from a file, returning io.EOF at its end.
type SampleReader interface {
	Next() (ImportSample, error)
}

// TextReader reads the OpenMetrics and Prometheus text formats: one
// sample per line, "name{label="value",...} value [timestamp]", comment
// lines (# HELP, # TYPE, # UNIT) skipped, "# EOF" ending the input.
// Timestamps with a fraction or below 10^11 are seconds (OpenMetrics),
// others milliseconds (Prometheus text); samples without one get Now.
type TextReader struct {
	r    *bufio.Reader
	now  int64
	line int
}

// NewTextReader reads from r; now stamps samples without a timestamp.
func NewTextReader(r io.Reader, now time.Time) *TextReader {
	return &TextReader{r: bufio.NewReaderSize(r, 64<<10), now: now.UnixMilli()}
}

// Next returns the next sample.
func (p *TextReader) Next() (ImportSample, error) {
	for {
		line, err := p.r.ReadString('\n')
		if line == "" && err != nil {
			if errors.Is(err, io.EOF) {
				return ImportSample{}, io.EOF
			}
			return ImportSample{}, fmt.Errorf("read: %w", err)
		}
		p.line++
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if line[0] == '#' {
			if line == "# EOF" {
				return ImportSample{}, io.EOF
			}
			continue
		}
		s, perr := ParseTextLine(line, p.now)
		if perr != nil {
			return ImportSample{}, fmt.Errorf("line %d: %w", p.line, perr)
		}
		return s, nil
	}
}

// ParseTextLine parses one sample line of the text formats.
func ParseTextLine(line string, now int64) (ImportSample, error) {
	var s ImportSample
	m := map[string]string{}
	rest := line
	if rest != "" && rest[0] != '{' {
		i := 0
		for i < len(rest) && isNameChar(rest[i], i == 0) {
			i++
		}
		if i == 0 {
			return s, fmt.Errorf("metric name: unexpected %q", rest[:1])
		}
		m[tsdb.MetricName] = rest[:i]
		rest = rest[i:]
	}
	if rest != "" && rest[0] == '{' {
		var err error
		if rest, err = parseLabelSet(rest[1:], m); err != nil {
			return s, err
		}
	}
	if m[tsdb.MetricName] == "" {
		return s, errors.New("no metric name")
	}
	if rest == "" || (rest[0] != ' ' && rest[0] != '\t') {
		return s, errors.New("want a space and a value after the series")
	}
	if i := strings.Index(rest, " # "); i >= 0 {
		rest = rest[:i] // exemplar
	}
	fields := strings.Fields(rest)
	if len(fields) == 0 || len(fields) > 2 {
		return s, fmt.Errorf("want a value and an optional timestamp, got %q", strings.TrimSpace(rest))
	}
	v, err := parseValue(fields[0])
	if err != nil {
		return s, err
	}
	s.V, s.T = v, now
	if len(fields) == 2 {
		if s.T, err = parseImportTime(fields[1]); err != nil {
			return s, err
		}
	}
	s.Labels = tsdb.FromMap(m)
	return s, nil
}

func isNameChar(c byte, first bool) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == ':' || (!first && c >= '0' && c <= '9')
}

// parseLabelSet reads `name="value",...}` into m and returns the rest.
func parseLabelSet(s string, m map[string]string) (string, error) {
	for {
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			return "", errors.New("labels: missing '}'")
		}
		if s[0] == '}' {
			return s[1:], nil
		}
		var name string
		if s[0] == '"' {
			q, rest, err := parseQuoted(s)
			if err != nil {
				return "", fmt.Errorf("labels: %w", err)
			}
			s = strings.TrimLeft(rest, " \t")
			if s == "" || s[0] != '=' {
				if _, dup := m[tsdb.MetricName]; dup {
					return "", errors.New("labels: metric name given twice")
				}
				m[tsdb.MetricName] = q // {"metric.name", ...}
				if s != "" && s[0] == ',' {
					s = s[1:]
				}
				continue
			}
			name = q
		} else {
			i := 0
			for i < len(s) && isNameChar(s[i], i == 0) && s[i] != ':' {
				i++
			}
			if i == 0 {
				return "", fmt.Errorf("labels: unexpected %q", s[:1])
			}
			name, s = s[:i], strings.TrimLeft(s[i:], " \t")
		}
		if s == "" || s[0] != '=' {
			return "", fmt.Errorf("labels: want '=' after %q", name)
		}
		s = strings.TrimLeft(s[1:], " \t")
		val, rest, err := parseQuoted(s)
		if err != nil {
			return "", fmt.Errorf("labels: %s: %w", name, err)
		}
		if _, dup := m[name]; dup {
			return "", fmt.Errorf("labels: %q given twice", name)
		}
		if val != "" {
			m[name] = val
		}
		s = strings.TrimLeft(rest, " \t")
		if s != "" && s[0] == ',' {
			s = s[1:]
		} else if s == "" || s[0] != '}' {
			return "", errors.New("labels: want ',' or '}'")
		}
	}
}

// parseQuoted reads a double-quoted string with \\, \" and \n escapes.
func parseQuoted(s string) (string, string, error) {
	if s == "" || s[0] != '"' {
		return "", s, errors.New("want a quoted string")
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			return b.String(), s[i+1:], nil
		case '\\':
			i++
			if i == len(s) {
				return "", "", errors.New("unterminated string")
			}
			switch s[i] {
			case 'n':
				b.WriteByte('\n')
			case '\\', '"':
				b.WriteByte(s[i])
			default:
				b.WriteByte('\\')
				b.WriteByte(s[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", "", errors.New("unterminated string")
}

func parseValue(s string) (float64, error) {
	switch s {
	case "NaN", "nan":
		return math.NaN(), nil
	case "+Inf", "+inf", "Inf", "inf":
		return math.Inf(1), nil
	case "-Inf", "-inf":
		return math.Inf(-1), nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("value %q is not a number", s)
	}
	return v, nil
}

// parseImportTime reads a timestamp: RFC 3339, seconds (with a fraction,
// or below 10^11) or milliseconds.
func parseImportTime(s string) (int64, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UnixMilli(), nil
	}
	if !strings.ContainsAny(s, ".eE") {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			if n > -1e11 && n < 1e11 {
				return n * 1000, nil
			}
			return n, nil
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e15 {
		return 0, fmt.Errorf("timestamp %q: want RFC 3339, unix seconds or milliseconds", s)
	}
	return int64(math.Round(f * 1000)), nil
}
