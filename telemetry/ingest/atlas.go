package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

// Datapoint is one Atlas datapoint: tags (including "name"), a
// millisecond timestamp and a value.
type Datapoint struct {
	Tags      map[string]string
	Timestamp int64
	Value     float64
}

// atlasValue is a JSON number, or a string such as "NaN", as Atlas
// accepts.
type atlasValue struct {
	v   float64
	set bool
}

func (a *atlasValue) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '[' {
		var vs []atlasValue
		if err := json.Unmarshal(b, &vs); err != nil {
			return err
		}
		if len(vs) > 0 {
			*a = vs[0]
		}
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("value %q is not a number", s)
		}
		a.v, a.set = f, true
		return nil
	}
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("value %s is not a number", b)
	}
	a.v, a.set = f, true
	return nil
}

type publishMetric struct {
	Tags      map[string]string `json:"tags"`
	Timestamp *int64            `json:"timestamp"`
	Start     *int64            `json:"start"`
	Value     atlasValue        `json:"value"`
	Values    atlasValue        `json:"values"`
}

type publishPayload struct {
	Tags    map[string]string `json:"tags"`
	Metrics []publishMetric   `json:"metrics"`
}

// ErrBadPayload marks a publish body that does not parse.
var ErrBadPayload = errors.New("bad publish payload")

// DecodePublish parses Atlas's publish payload:
//
//	{"tags": {common tags}, "metrics": [{"tags": {...}, "timestamp": ms, "value": v}, ...]}
//
// Common tags are merged under each metric's own. As in Atlas, unknown
// fields are ignored, "start" is accepted for "timestamp" and "values"
// for "value", and a value may be a JSON number or a string ("NaN").
func DecodePublish(b []byte) ([]Datapoint, error) {
	var p publishPayload
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadPayload, err)
	}
	out := make([]Datapoint, 0, len(p.Metrics))
	for i, m := range p.Metrics {
		tags := make(map[string]string, len(p.Tags)+len(m.Tags))
		for k, v := range p.Tags {
			tags[k] = v
		}
		for k, v := range m.Tags {
			tags[k] = v
		}
		dp := Datapoint{Tags: tags, Timestamp: -1, Value: math.NaN()}
		switch {
		case m.Timestamp != nil:
			dp.Timestamp = *m.Timestamp
		case m.Start != nil:
			dp.Timestamp = *m.Start
		}
		switch {
		case m.Value.set:
			dp.Value = m.Value.v
		case m.Values.set:
			dp.Value = m.Values.v
		}
		if dp.Timestamp < 0 {
			return nil, fmt.Errorf("%w: metrics[%d]: timestamp missing or negative", ErrBadPayload, i)
		}
		out = append(out, dp)
	}
	return out, nil
}

// AtlasRules are Atlas's publish validation rules (its reference.conf).
type AtlasRules struct {
	// MaxUserTags bounds tags outside the reserved nf. and atlas. prefixes.
	MaxUserTags int
}

// DefaultAtlasRules are Atlas's defaults.
var DefaultAtlasRules = AtlasRules{MaxUserTags: 20}

var reservedAllowed = map[string]map[string]bool{
	"atlas.": set("aggr", "dstype", "offset", "legacy"),
	"nf.": set("account", "ami", "app", "asg", "cluster", "container", "country", "country.rollup",
		"job", "node", "process", "region", "shard1", "shard2", "stack", "subnet", "task", "vmtype", "vpc", "zone"),
}

func set(ss ...string) map[string]bool {
	m := make(map[string]bool, len(ss))
	for _, s := range ss {
		m[s] = true
	}
	return m
}

func validAtlasChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '^' || c == '~'
}

func validAtlasString(s string) bool {
	for i := 0; i < len(s); i++ {
		if !validAtlasChar(s[i]) {
			return false
		}
	}
	return true
}

// Validate applies the rules to a datapoint's tags, returning Atlas's
// reason for the first rule broken, or "".
func (r AtlasRules) Validate(tags map[string]string) string {
	if _, ok := tags["name"]; !ok {
		return "missing key 'name'"
	}
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	userTags := 0
	for _, k := range keys {
		v := tags[k]
		switch {
		case len(k) < 2:
			return fmt.Sprintf("key too short: %s (%d < 2)", k, len(k))
		case len(k) > 60:
			return fmt.Sprintf("key too long: %s (%d > 60)", k, len(k))
		}
		minV, maxV := 1, 120
		if k == "name" {
			minV, maxV = 2, 255
		}
		switch {
		case len(v) < minV:
			return fmt.Sprintf("value too short: %s = [%s] (%d < %d)", k, v, len(v), minV)
		case len(v) > maxV:
			return fmt.Sprintf("value too long: %s = [%s] (%d > %d)", k, v, len(v), maxV)
		}
		if !validAtlasString(k) {
			return fmt.Sprintf("invalid characters in key: %s ([-._A-Za-z0-9^~] are allowed)", k)
		}
		if !validAtlasString(v) {
			return fmt.Sprintf("invalid characters in value: %s = [%s] ([-._A-Za-z0-9^~] are allowed)", k, v)
		}
		restricted := false
		for prefix, allowed := range reservedAllowed {
			if strings.HasPrefix(k, prefix) {
				restricted = true
				if !allowed[k[len(prefix):]] {
					return fmt.Sprintf("invalid key for reserved prefix '%s': %s", prefix, k)
				}
			}
		}
		if !restricted {
			userTags++
		}
	}
	if r.MaxUserTags > 0 && userTags > r.MaxUserTags {
		return fmt.Sprintf("too many user tags: %d > %d", userTags, r.MaxUserTags)
	}
	return ""
}

// AtlasLabels turns Atlas tags into the store's labels: "name" becomes
// the metric name.
func AtlasLabels(tags map[string]string) tsdb.Labels {
	ls := make(tsdb.Labels, 0, len(tags))
	for k, v := range tags {
		if k == "name" {
			k = tsdb.MetricName
		}
		ls = append(ls, tsdb.Label{Name: k, Value: v})
	}
	sort.Sort(ls)
	return ls
}
