package resolve

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Criterion selects resources, as Genie 4's Criterion does: every field
// that is set must equal the resource's, and the resource must carry
// every tag.
type Criterion struct {
	ID      string   `json:"id,omitempty"`
	Name    string   `json:"name,omitempty"`
	Version string   `json:"version,omitempty"`
	Status  string   `json:"status,omitempty"`
	Tags    []string `json:"tags,omitempty"`
}

// IsEmpty reports whether c sets nothing (it would match everything).
func (c Criterion) IsEmpty() bool {
	return c.ID == "" && c.Name == "" && c.Version == "" && c.Status == "" && len(c.Tags) == 0
}

// maxCriterion bounds the text ParseCriterion accepts, in bytes.
const maxCriterion = 4096

// ParseCriterion reads a criterion in the form of Genie's agent CLI,
// "ID=i/NAME=n/VERSION=v/STATUS=s/TAGS=t1,t2" (every component optional
// but at least one; any order; keys in any case), or a bare list of tags
// "t1,t2". Values may not be empty, tags may not contain '/' or ','.
func ParseCriterion(s string) (Criterion, error) {
	var c Criterion
	s = strings.TrimSpace(s)
	if s == "" {
		return c, errors.New("criterion: empty; want ID=i/NAME=n/VERSION=v/STATUS=s/TAGS=t1,t2 or a list of tags")
	}
	if len(s) > maxCriterion {
		return c, fmt.Errorf("criterion: %d bytes, longer than %d", len(s), maxCriterion)
	}
	if !strings.Contains(s, "=") {
		tags, err := parseTags(s)
		if err != nil {
			return c, err
		}
		c.Tags = tags
		return c, nil
	}
	seen := map[string]bool{}
	for _, part := range strings.Split(s, "/") {
		key, val, ok := strings.Cut(part, "=")
		key = strings.ToUpper(strings.TrimSpace(key))
		val = strings.TrimSpace(val)
		if !ok {
			return c, fmt.Errorf("criterion: component %q: want KEY=value", part)
		}
		if seen[key] {
			return c, fmt.Errorf("criterion: %s given twice", key)
		}
		seen[key] = true
		if val == "" {
			return c, fmt.Errorf("criterion: %s: value must not be empty", key)
		}
		if key != "TAGS" && strings.Contains(val, ",") {
			return c, fmt.Errorf("criterion: %s: value %q must not contain ','", key, val)
		}
		switch key {
		case "ID":
			c.ID = val
		case "NAME":
			c.Name = val
		case "VERSION":
			c.Version = val
		case "STATUS":
			c.Status = strings.ToUpper(val)
		case "TAGS":
			tags, err := parseTags(val)
			if err != nil {
				return c, err
			}
			c.Tags = tags
		default:
			return c, fmt.Errorf("criterion: unknown key %q; want ID, NAME, VERSION, STATUS or TAGS", key)
		}
	}
	return c, nil
}

func parseTags(s string) ([]string, error) {
	var tags []string
	for _, t := range strings.Split(s, ",") {
		t = strings.TrimSpace(t)
		if t == "" {
			return nil, fmt.Errorf("criterion: tags %q: empty tag", s)
		}
		if strings.ContainsAny(t, "/=") {
			return nil, fmt.Errorf("criterion: tag %q: must not contain '/' or '='", t)
		}
		tags = append(tags, t)
	}
	return normTags(tags), nil
}

// normTags sorts tags and drops repeats.
func normTags(tags []string) []string {
	if len(tags) == 0 {
		return nil
	}
	out := append([]string(nil), tags...)
	sort.Strings(out)
	n := 1
	for _, t := range out[1:] {
		if t != out[n-1] {
			out[n] = t
			n++
		}
	}
	return out[:n]
}

// String renders c in the form ParseCriterion reads.
func (c Criterion) String() string {
	var parts []string
	for _, kv := range [][2]string{{"ID", c.ID}, {"NAME", c.Name}, {"VERSION", c.Version}, {"STATUS", c.Status}} {
		if kv[1] != "" {
			parts = append(parts, kv[0]+"="+kv[1])
		}
	}
	if len(c.Tags) > 0 {
		parts = append(parts, "TAGS="+strings.Join(normTags(c.Tags), ","))
	}
	return strings.Join(parts, "/")
}

// Merge combines a command's cluster criterion with a job's, as Genie 4
// does: the tags of both, and each of id, name, version and status from
// whichever sets it. When both set a field to different values no
// cluster can match; ok is false and why names the field.
func Merge(command, job Criterion) (merged Criterion, why string, ok bool) {
	fields := [][3]*string{{&merged.ID, &command.ID, &job.ID}, {&merged.Name, &command.Name, &job.Name},
		{&merged.Version, &command.Version, &job.Version}, {&merged.Status, &command.Status, &job.Status}}
	names := []string{"id", "name", "version", "status"}
	for i, f := range fields {
		a, b := *f[1], *f[2]
		switch {
		case a == b || b == "":
			*f[0] = a
		case a == "":
			*f[0] = b
		default:
			return Criterion{}, fmt.Sprintf("the command's criterion wants %s %q, the job's %q", names[i], a, b), false
		}
	}
	merged.Tags = normTags(append(append([]string(nil), command.Tags...), job.Tags...))
	return merged, "", true
}

// mismatch says why r fails c (with defStatus as the status when c names
// none), or "" when it matches.
func mismatch(r *Resource, c Criterion, defStatus string) string {
	status := c.Status
	if status == "" {
		status = defStatus
	}
	switch {
	case c.ID != "" && r.ID != c.ID:
		return fmt.Sprintf("id is not %q", c.ID)
	case c.Name != "" && r.Name != c.Name:
		return fmt.Sprintf("name %q is not %q", r.Name, c.Name)
	case c.Version != "" && r.Version != c.Version:
		return fmt.Sprintf("version %q is not %q", r.Version, c.Version)
	case status != "" && r.Status != status:
		return fmt.Sprintf("status %s is not %s", r.Status, status)
	}
	var missing []string
	for _, t := range c.Tags {
		if !r.hasTag(t) {
			missing = append(missing, t)
		}
	}
	if len(missing) > 0 {
		return "lacks tag " + strings.Join(missing, ", ")
	}
	return ""
}
