package tsdb

import (
	"fmt"
	"unicode/utf8"
)

// Validation holds the rules a new series must satisfy. A zero field means
// no limit for that rule.
type Validation struct {
	// MaxTags bounds the number of tags, not counting the metric name.
	MaxTags int
	// MaxKeyLength bounds a tag key's length in bytes.
	MaxKeyLength int
	// MaxValueLength bounds a tag value's (and the metric name's) length.
	MaxValueLength int
	// StrictValues restricts values to Atlas's character set, as keys always
	// are. Otherwise values may be any UTF-8 without control characters, as
	// Prometheus allows.
	StrictValues bool
}

// DefaultValidation accepts what Prometheus and Atlas clients send.
var DefaultValidation = Validation{MaxTags: 30, MaxKeyLength: 128, MaxValueLength: 1024}

// AtlasValidation is Atlas's publish validation: 20 user tags, keys up to
// 60 and values up to 120 characters from [-._A-Za-z0-9^~].
var AtlasValidation = Validation{MaxTags: 20, MaxKeyLength: 60, MaxValueLength: 120, StrictValues: true}

// atlasChar reports whether c is in Atlas's tag character set.
func atlasChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '^' || c == '~'
}

// Validate checks a label set, returning a *ValidationError naming the
// first offending tag. ls must be sorted by name.
func (r Validation) Validate(ls Labels) error {
	metric := ls.Metric()
	if metric == "" {
		return &ValidationError{Reason: fmt.Sprintf("metric name (%s) is required", MetricName)}
	}
	if r.MaxTags > 0 && len(ls)-1 > r.MaxTags {
		return &ValidationError{Metric: metric, Reason: fmt.Sprintf("%d tags, more than the limit of %d", len(ls)-1, r.MaxTags)}
	}
	for i, l := range ls {
		if i > 0 && ls[i-1].Name == l.Name {
			return &ValidationError{Metric: metric, Tag: l.Name, Reason: "duplicate key"}
		}
		if err := r.checkKey(l.Name); err != "" {
			return &ValidationError{Metric: metric, Tag: l.Name, Reason: err}
		}
		if l.Value == "" {
			return &ValidationError{Metric: metric, Tag: l.Name, Reason: "empty value"}
		}
		if err := r.checkValue(l.Value); err != "" {
			return &ValidationError{Metric: metric, Tag: l.Name, Reason: err}
		}
	}
	return nil
}

func (r Validation) checkKey(k string) string {
	if k == "" {
		return "empty key"
	}
	if r.MaxKeyLength > 0 && len(k) > r.MaxKeyLength {
		return fmt.Sprintf("key is %d bytes, longer than the limit of %d", len(k), r.MaxKeyLength)
	}
	if k == MetricName {
		return ""
	}
	for i := 0; i < len(k); i++ {
		if !atlasChar(k[i]) {
			return fmt.Sprintf("key has invalid character %q at byte %d (allowed: -._A-Za-z0-9^~)", k[i], i)
		}
	}
	return ""
}

func (r Validation) checkValue(v string) string {
	if r.MaxValueLength > 0 && len(v) > r.MaxValueLength {
		return fmt.Sprintf("value is %d bytes, longer than the limit of %d", len(v), r.MaxValueLength)
	}
	if r.StrictValues {
		for i := 0; i < len(v); i++ {
			if !atlasChar(v[i]) {
				return fmt.Sprintf("value has invalid character %q at byte %d (allowed: -._A-Za-z0-9^~)", v[i], i)
			}
		}
		return ""
	}
	if !utf8.ValidString(v) {
		return "value is not valid UTF-8"
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] == 0x7f {
			return fmt.Sprintf("value has control character %#x at byte %d", v[i], i)
		}
	}
	return ""
}
