package resolve

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Statuses of applications and commands (Genie's ApplicationStatus and
// CommandStatus).
const (
	StatusActive     = "ACTIVE"
	StatusDeprecated = "DEPRECATED"
	StatusInactive   = "INACTIVE"
)

// Statuses of clusters (Genie's ClusterStatus).
const (
	StatusUp           = "UP"
	StatusOutOfService = "OUT_OF_SERVICE"
	StatusTerminated   = "TERMINATED"
)

// Resource is what applications, commands and clusters have in common.
type Resource struct {
	ID      string
	Name    string
	User    string
	Version string
	// Status is one of the kind's statuses.
	Status string
	// Tags are free-form labels; criteria select by them.
	Tags []string
	// Metadata is any JSON object the owner attaches; nil for none.
	Metadata json.RawMessage
}

// validate checks the fields every resource needs; kind names it in errors.
func (r *Resource) validate(kind string, statuses ...string) error {
	switch {
	case strings.TrimSpace(r.ID) == "":
		return fmt.Errorf("%s: id: must not be empty", kind)
	case strings.TrimSpace(r.Name) == "":
		return fmt.Errorf("%s %s: name: must not be empty", kind, r.ID)
	case strings.TrimSpace(r.User) == "":
		return fmt.Errorf("%s %s: user: must not be empty", kind, r.ID)
	case strings.TrimSpace(r.Version) == "":
		return fmt.Errorf("%s %s: version: must not be empty", kind, r.ID)
	}
	ok := false
	for _, s := range statuses {
		ok = ok || r.Status == s
	}
	if !ok {
		return fmt.Errorf("%s %s: status: %q is not one of %s", kind, r.ID, r.Status, strings.Join(statuses, ", "))
	}
	for i, t := range r.Tags {
		if strings.TrimSpace(t) == "" || strings.ContainsAny(t, ",/") {
			return fmt.Errorf("%s %s: tags[%d]: %q must be non-empty and contain no ',' or '/'", kind, r.ID, i, t)
		}
	}
	if len(r.Metadata) > 0 {
		var obj map[string]any
		if err := json.Unmarshal(r.Metadata, &obj); err != nil {
			return fmt.Errorf("%s %s: metadata: must be a JSON object: %w", kind, r.ID, err)
		}
	}
	return nil
}

// hasTag reports whether r carries tag t.
func (r *Resource) hasTag(t string) bool {
	for _, x := range r.Tags {
		if x == t {
			return true
		}
	}
	return false
}

// Application is software a command needs on the host (Spark's jars, a
// Hadoop client), staged into the job's directory.
type Application struct {
	Resource
	// Type groups applications of one kind ("spark").
	Type string
}

// Validate reports the first missing or malformed field.
func (a *Application) Validate() error {
	return a.validate("application", StatusActive, StatusDeprecated, StatusInactive)
}

// Command is an executable jobs run, with the clusters it can run on.
type Command struct {
	Resource
	// Executable is the program and its fixed arguments; the job's
	// arguments follow them.
	Executable []string
	// Applications are the ids of the applications the command needs,
	// staged in this order.
	Applications []string
	// ClusterCriteria, in priority order, say which clusters the command
	// runs on; each is merged with the job's cluster criteria.
	ClusterCriteria []Criterion
	// CheckDelay is how often, in milliseconds, Genie 3 checked the job's
	// process; kept for API compatibility.
	CheckDelay int64
	// Memory is the memory, in MB, the job's process is given by default.
	Memory int
}

// Validate reports the first missing or malformed field.
func (c *Command) Validate() error {
	if err := c.validate("command", StatusActive, StatusDeprecated, StatusInactive); err != nil {
		return err
	}
	if len(c.Executable) == 0 || strings.TrimSpace(c.Executable[0]) == "" {
		return fmt.Errorf("command %s: executable: must name a program", c.ID)
	}
	for i, cc := range c.ClusterCriteria {
		if cc.IsEmpty() {
			return fmt.Errorf("command %s: clusterCriteria[%d]: must name an id, name, version, status or tag", c.ID, i)
		}
	}
	return nil
}

// Cluster is where jobs run: a Hadoop, Presto or Spark cluster, or a
// group of hosts, with an agent attached.
type Cluster struct {
	Resource
}

// Validate reports the first missing or malformed field.
func (c *Cluster) Validate() error {
	return c.validate("cluster", StatusUp, StatusOutOfService, StatusTerminated)
}
