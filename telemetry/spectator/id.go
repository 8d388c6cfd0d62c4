package spectator

import (
	"os"
	"sort"
	"strings"
)

// ID identifies a meter: a name and tags.
type ID struct {
	name string
	tags map[string]string
	line string // "name,k=v,..." with sorted keys, characters replaced
}

func validChar(c byte) bool {
	return c == '-' || c == '.' || c == '_' || c == '^' || c == '~' ||
		c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// Sanitize replaces characters outside [-._A-Za-z0-9^~] with '_'.
func Sanitize(s string) string {
	ok := true
	for i := 0; i < len(s); i++ {
		if !validChar(s[i]) {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	b := []byte(s)
	for i := range b {
		if !validChar(b[i]) {
			b[i] = '_'
		}
	}
	return string(b)
}

// NewID returns the ID of name and tags.
func NewID(name string, tags map[string]string) *ID {
	id := &ID{name: name, tags: make(map[string]string, len(tags))}
	keys := make([]string, 0, len(tags))
	for k, v := range tags {
		id.tags[k] = v
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(Sanitize(name))
	for _, k := range keys {
		b.WriteByte(',')
		b.WriteString(Sanitize(k))
		b.WriteByte('=')
		b.WriteString(Sanitize(tags[k]))
	}
	id.line = b.String()
	return id
}

// Name returns the meter's name.
func (id *ID) Name() string { return id.name }

// Tags returns a copy of the meter's tags.
func (id *ID) Tags() map[string]string {
	out := make(map[string]string, len(id.tags))
	for k, v := range id.tags {
		out[k] = v
	}
	return out
}

// WithTag returns an ID with one more tag.
func (id *ID) WithTag(k, v string) *ID {
	t := id.Tags()
	t[k] = v
	return NewID(id.name, t)
}

// String is the ID as written in protocol lines.
func (id *ID) String() string { return id.line }

// CommonTagsFromEnv returns the tags spectatord adds for the process:
// nf.process from NETFLIX_PROCESS_NAME and nf.container from
// TITUS_CONTAINER_NAME, when set.
func CommonTagsFromEnv() map[string]string {
	out := map[string]string{}
	if v := os.Getenv("NETFLIX_PROCESS_NAME"); v != "" {
		out["nf.process"] = v
	}
	if v := os.Getenv("TITUS_CONTAINER_NAME"); v != "" {
		out["nf.container"] = v
	}
	return out
}
