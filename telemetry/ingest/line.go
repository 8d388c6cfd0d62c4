package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
)

// MeterType is a spectatord meter type, named by its protocol letter.
type MeterType byte

// The spectatord meter types.
const (
	Counter               MeterType = 'c'
	DistSummary           MeterType = 'd'
	Timer                 MeterType = 't'
	Gauge                 MeterType = 'g'
	MaxGauge              MeterType = 'm'
	AgeGauge              MeterType = 'A'
	MonotonicCounter      MeterType = 'C'
	MonotonicCounterUint  MeterType = 'U'
	MonotonicSampled      MeterType = 'X'
	PercentileDistSummary MeterType = 'D'
	PercentileTimer       MeterType = 'T'
)

// Limits of the line protocol, as in spectatord.
const (
	maxNameLength   = 255
	maxTagLength    = 120
	maxLineTags     = 30
	maxOptionLength = 20
)

// Line is one parsed spectatord update. Name and Tags point into the
// parsed buffer.
type Line struct {
	Type MeterType
	// Option is the text after the type's comma: a gauge's TTL in
	// seconds, or the sample time (ms) of an X update; "" if none.
	Option []byte
	// ID is "name[,k=v...]" as sent, with invalid characters replaced.
	ID    []byte
	Value float64
}

// ErrLine marks a line that does not parse.
var ErrLine = errors.New("spectatord line")

func lineErr(msg string, line []byte) error {
	if len(line) > 80 {
		line = append(line[:77:77], "..."...)
	}
	return fmt.Errorf("%w %q: %s", ErrLine, line, msg)
}

// ParseLine parses "<type>[,<option>]:<name>[,<key>=<value>...]:<value>".
// Characters outside [-._A-Za-z0-9^~] in the name and tags are replaced
// by '_' in place, as spectatord does.
func ParseLine(line []byte) (Line, error) {
	var l Line
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	if len(line) == 0 {
		return l, lineErr("empty line", line)
	}
	first := bytes.IndexByte(line, ':')
	last := bytes.LastIndexByte(line, ':')
	if first < 0 || first == last {
		return l, lineErr("want <type>[,<option>]:<name>[,<key>=<value>...]:<value>", line)
	}
	head, id, val := line[:first], line[first+1:last], line[last+1:]
	if len(head) == 0 {
		return l, lineErr("no meter type", line)
	}
	l.Type = MeterType(head[0])
	switch l.Type {
	case Counter, DistSummary, Timer, Gauge, MaxGauge, AgeGauge, MonotonicCounter, MonotonicCounterUint,
		MonotonicSampled, PercentileDistSummary, PercentileTimer:
	default:
		return l, lineErr("unknown meter type (want one of c, d, t, g, m, A, C, U, X, D, T)", line)
	}
	if len(head) > 1 {
		if head[1] != ',' || len(head) == 2 || len(head) > 2+maxOptionLength {
			return l, lineErr("option after the type must be an integer", line)
		}
		l.Option = head[2:]
		if l.Type != Gauge && l.Type != MonotonicSampled {
			return l, lineErr("only g (TTL seconds) and X (sample time) take an option", line)
		}
		if _, err := strconv.ParseInt(string(l.Option), 10, 64); err != nil {
			return l, lineErr("option after the type must be an integer", line)
		}
	} else if l.Type == MonotonicSampled {
		return l, lineErr("X needs the sample time in milliseconds: X,<ms>:<name>:<value>", line)
	}
	if len(val) == 0 {
		return l, lineErr("no value", line)
	}
	v, err := strconv.ParseFloat(string(val), 64)
	if err != nil {
		return l, lineErr("value is not a number", line)
	}
	l.Value = v
	if err := checkID(id); err != nil {
		return l, lineErr(err.Error(), line)
	}
	l.ID = id
	return l, nil
}

// checkID validates "name[,k=v...]" and replaces invalid characters.
func checkID(id []byte) error {
	name := id
	if i := bytes.IndexByte(id, ','); i >= 0 {
		name = id[:i]
	}
	if len(name) == 0 {
		return errors.New("no name")
	}
	if len(name) > maxNameLength {
		return errors.New("name longer than 255 characters")
	}
	tags := 0
	start := 0
	sawEq := true
	for i := 0; i <= len(id); i++ {
		if i == len(id) || id[i] == ',' {
			if !sawEq {
				return errors.New("tag is not key=value")
			}
			if i-start > 2*maxTagLength+1 {
				return errors.New("tag longer than 120+120 characters")
			}
			if i < len(id) {
				tags++
				if tags > maxLineTags {
					return errors.New("more than 30 tags")
				}
				start = i + 1
				sawEq = false
			}
			continue
		}
		c := id[i]
		if c == '=' && !sawEq {
			if i == start || i == len(id)-1 || id[i+1] == ',' {
				return errors.New("tag is not key=value")
			}
			sawEq = true
			continue
		}
		if !validAtlasChar(c) {
			id[i] = '_'
		}
	}
	return nil
}
