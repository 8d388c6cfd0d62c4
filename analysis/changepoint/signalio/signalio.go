// Package signalio reads change-point input signals from CSV or JSON, the
// formats `gaffer changepoint detect` accepts.
package signalio

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/gaffer-sre/gaffer/analysis/changepoint/detect"
)

// MaxInputBytes bounds the size of an input signal (1 GiB).
const MaxInputBytes = 1 << 30

// Read parses a signal from r: a JSON array of numbers or of arrays of
// numbers, or CSV with one sample per line and one column per dimension
// (an optional header line is detected and skipped).
func Read(r io.Reader) (*detect.Signal, error) {
	raw, err := io.ReadAll(io.LimitReader(r, MaxInputBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read signal: %w", err)
	}
	if len(raw) > MaxInputBytes {
		return nil, fmt.Errorf("read signal: input larger than %d bytes", MaxInputBytes)
	}
	return Parse(raw)
}

// Parse parses a signal held in memory; see Read.
func Parse(raw []byte) (*detect.Signal, error) {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 {
		return nil, fmt.Errorf("%w: empty input", detect.ErrInvalidSignal)
	}
	if trimmed[0] == '[' {
		return parseJSON(trimmed)
	}
	return parseCSV(trimmed)
}

func parseJSON(raw []byte) (*detect.Signal, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, fmt.Errorf("%w: parse JSON: %w", detect.ErrInvalidSignal, err)
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("%w: empty JSON array", detect.ErrInvalidSignal)
	}
	if t := bytes.TrimSpace(items[0]); len(t) > 0 && t[0] == '[' {
		rows := make([][]float64, len(items))
		for i, it := range items {
			if err := json.Unmarshal(it, &rows[i]); err != nil {
				return nil, fmt.Errorf("%w: JSON sample %d: want an array of numbers: %w", detect.ErrInvalidSignal, i, err)
			}
		}
		return detect.NewSignal(rows)
	}
	xs := make([]float64, len(items))
	for i, it := range items {
		if err := json.Unmarshal(it, &xs[i]); err != nil {
			return nil, fmt.Errorf("%w: JSON sample %d: want a number: %w", detect.ErrInvalidSignal, i, err)
		}
	}
	return detect.NewSeries(xs)
}

func parseCSV(raw []byte) (*detect.Signal, error) {
	r := csv.NewReader(bytes.NewReader(raw))
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	r.Comment = '#'
	var rows [][]float64
	for line := 0; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: parse CSV: %w", detect.ErrInvalidSignal, err)
		}
		row, perr := parseRecord(rec)
		if perr != nil {
			if line == 0 && len(rows) == 0 {
				continue // a header line
			}
			pos, _ := r.FieldPos(0)
			return nil, fmt.Errorf("%w: CSV line %d: %w", detect.ErrInvalidSignal, pos, perr)
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%w: CSV input has no samples", detect.ErrInvalidSignal)
	}
	return detect.NewSignal(rows)
}

func parseRecord(rec []string) ([]float64, error) {
	row := make([]float64, len(rec))
	for i, f := range rec {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil {
			return nil, fmt.Errorf("column %d: %q is not a number", i+1, f)
		}
		row[i] = v
	}
	return row, nil
}
