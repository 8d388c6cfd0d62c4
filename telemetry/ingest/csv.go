package ingest

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

// CSVReader reads samples from CSV with a header line. The columns
// "timestamp" (RFC 3339, unix seconds or milliseconds) and "value" are
// required, and "metric" (or "__name__" or "name") names the metric;
// every other column is a label, left out where empty.
type CSVReader struct {
	r               *csv.Reader
	header          []string
	ts, value, name int
	line            int
	started         bool
}

// NewCSVReader reads CSV from r.
func NewCSVReader(r io.Reader) *CSVReader {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	cr.TrimLeadingSpace = true
	return &CSVReader{r: cr}
}

func (c *CSVReader) readHeader() error {
	rec, err := c.r.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return errors.New("csv: empty file; want a header line with timestamp, value and metric columns")
		}
		return fmt.Errorf("csv header: %w", err)
	}
	c.line = 1
	c.header = append([]string(nil), rec...)
	c.ts, c.value, c.name = -1, -1, -1
	for i, h := range c.header {
		switch strings.ToLower(strings.TrimSpace(h)) {
		case "timestamp", "time":
			c.ts = i
		case "value":
			c.value = i
		case "metric", "__name__", "name":
			c.name = i
		}
	}
	var missing []string
	if c.ts < 0 {
		missing = append(missing, "timestamp")
	}
	if c.value < 0 {
		missing = append(missing, "value")
	}
	if c.name < 0 {
		missing = append(missing, "metric")
	}
	if len(missing) > 0 {
		return fmt.Errorf("csv header %q: missing column(s) %s", strings.Join(c.header, ","), strings.Join(missing, ", "))
	}
	return nil
}

// Next returns the next sample.
func (c *CSVReader) Next() (ImportSample, error) {
	if !c.started {
		c.started = true
		if err := c.readHeader(); err != nil {
			return ImportSample{}, err
		}
	}
	rec, err := c.r.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return ImportSample{}, io.EOF
		}
		return ImportSample{}, fmt.Errorf("csv: %w", err)
	}
	c.line++
	var s ImportSample
	if len(rec) != len(c.header) {
		return s, fmt.Errorf("csv line %d: %d fields, header has %d", c.line, len(rec), len(c.header))
	}
	if s.T, err = parseImportTime(strings.TrimSpace(rec[c.ts])); err != nil {
		return s, fmt.Errorf("csv line %d: %w", c.line, err)
	}
	if s.V, err = parseValue(strings.TrimSpace(rec[c.value])); err != nil {
		return s, fmt.Errorf("csv line %d: %w", c.line, err)
	}
	ls := make(tsdb.Labels, 0, len(rec)-2)
	for i, v := range rec {
		if i == c.ts || i == c.value || v == "" {
			continue
		}
		name := c.header[i]
		if i == c.name {
			name = tsdb.MetricName
		}
		ls = append(ls, tsdb.Label{Name: name, Value: v})
	}
	if ls.Get(tsdb.MetricName) == "" {
		return s, fmt.Errorf("csv line %d: empty metric name", c.line)
	}
	sort.Sort(ls)
	s.Labels = ls
	return s, nil
}
