package genie

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/gaffer-sre/gaffer/orchestration/genie/resolve"
)

// The JSON shapes of Genie's v3 REST API. Field names are Genie's
// (camelCase); "_links" holds HAL links as Genie's responses do and is
// ignored on input.

// Link is a HAL link.
type Link struct {
	Href string `json:"href"`
}

// Common are the fields every v3 resource has.
type Common struct {
	ID           string           `json:"id,omitempty"`
	Created      *time.Time       `json:"created,omitempty"`
	Updated      *time.Time       `json:"updated,omitempty"`
	Version      string           `json:"version"`
	User         string           `json:"user"`
	Name         string           `json:"name"`
	Description  string           `json:"description,omitempty"`
	Metadata     json.RawMessage  `json:"metadata,omitempty"`
	Tags         []string         `json:"tags"`
	SetupFile    string           `json:"setupFile,omitempty"`
	Configs      []string         `json:"configs"`
	Dependencies []string         `json:"dependencies"`
	Status       string           `json:"status"`
	Links        map[string]Link  `json:"_links,omitempty"`
	Runtime      *json.RawMessage `json:"runtime,omitempty"`
}

// Application is a v3 application.
type Application struct {
	Common
	Type string `json:"type,omitempty"`
}

// Command is a v3 command. Executable is Genie 3's command line;
// ExecutableAndArguments Genie 4's list; either may be given, and both
// are returned.
type Command struct {
	Common
	Executable             string              `json:"executable,omitempty"`
	ExecutableAndArguments []string            `json:"executableAndArguments,omitempty"`
	CheckDelay             int64               `json:"checkDelay,omitempty"`
	Memory                 *int                `json:"memory,omitempty"`
	ClusterCriteria        []resolve.Criterion `json:"clusterCriteria"`
	// Applications are the ids of the applications the command needs;
	// set with /commands/{id}/applications (not a v3 field on input).
	Applications []string `json:"-"`
}

// Cluster is a v3 cluster.
type Cluster struct {
	Common
}

// Kinds of resources, as their paths name them.
const (
	kindApplication = "applications"
	kindCommand     = "commands"
	kindCluster     = "clusters"
)

// genieTags are the tags Genie adds to every resource: its id and name.
func genieTags(tags []string, id, name string) []string {
	var out []string
	for _, t := range tags {
		if !strings.HasPrefix(t, "genie.id:") && !strings.HasPrefix(t, "genie.name:") {
			out = append(out, t)
		}
	}
	out = append(out, "genie.id:"+id, "genie.name:"+name)
	return normTags(out)
}

// normTags trims, sorts and de-duplicates tags.
func normTags(tags []string) []string {
	seen := map[string]bool{}
	out := []string{}
	for _, t := range tags {
		t = strings.TrimSpace(t)
		if t != "" && !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	sort.Strings(out)
	return out
}

func (c *Common) resource() resolve.Resource {
	return resolve.Resource{ID: c.ID, Name: c.Name, User: c.User, Version: c.Version, Status: c.Status, Tags: c.Tags, Metadata: c.Metadata}
}

// normalize fills defaults and Genie's tags, and validates through the
// resolve model. kind is one of the kind constants.
func (c *Common) normalize(defStatus string) {
	c.Status = strings.ToUpper(strings.TrimSpace(c.Status))
	if c.Status == "" {
		c.Status = defStatus
	}
	c.Tags = genieTags(c.Tags, c.ID, c.Name)
	if c.Configs == nil {
		c.Configs = []string{}
	}
	if c.Dependencies == nil {
		c.Dependencies = []string{}
	}
	c.Links, c.Created, c.Updated = nil, nil, nil
}

func (a *Application) validate() error {
	a.normalize(resolve.StatusActive)
	r := resolve.Application{Resource: a.resource(), Type: a.Type}
	return r.Validate()
}

func (c *Command) validate() error {
	c.normalize(resolve.StatusActive)
	if len(c.ExecutableAndArguments) == 0 {
		args, err := SplitArgs(c.Executable)
		if err != nil {
			return fmt.Errorf("command %s: executable: %w", c.ID, err)
		}
		c.ExecutableAndArguments = args
	}
	c.Executable = JoinArgs(c.ExecutableAndArguments)
	if c.ClusterCriteria == nil {
		c.ClusterCriteria = []resolve.Criterion{}
	}
	for i := range c.ClusterCriteria {
		c.ClusterCriteria[i].Status = strings.ToUpper(c.ClusterCriteria[i].Status)
	}
	r := c.model()
	return r.Validate()
}

func (c *Command) model() *resolve.Command {
	return &resolve.Command{Resource: c.resource(), Executable: c.ExecutableAndArguments, Applications: c.Applications,
		ClusterCriteria: c.ClusterCriteria, CheckDelay: c.CheckDelay}
}

func (c *Cluster) validate() error {
	c.normalize(resolve.StatusUp)
	r := resolve.Cluster{Resource: c.resource()}
	return r.Validate()
}

// commandRow is how a command is stored: the v3 shape plus its
// applications, which the v3 shape leaves to a sub-resource.
type commandRow struct {
	Command
	Apps []string `json:"applications"`
}
