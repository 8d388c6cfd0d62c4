package resolve

import (
	"context"
	"encoding/json"
	"fmt"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"

	"github.com/gaffer-sre/gaffer/internal/platform/celbudget"
)

// ClusterSelector is a load balancer: it picks one of a command's
// candidate clusters (at least two) for a job. A nil cluster with a nil
// error means no opinion, and resolution picks at random.
type ClusterSelector interface {
	SelectCluster(ctx context.Context, job *Request, command *Command, clusters []*Cluster) (*Cluster, string, error)
}

// CELSelector is a load balancer written in CEL, Gaffer's counterpart of
// Genie's script cluster selector. The expression sees `clusters`, a list
// of maps (id, name, user, version, status, tags, metadata), `job` (id,
// name, user, tags) and `command` (id, name, version, tags), and returns
// the id of the chosen cluster, or null to leave the choice to chance.
type CELSelector struct {
	source string
	prg    *celbudget.Program
}

var selectorEnvs = celbudget.EnvCache{Build: func(b celbudget.Budget) (*cel.Env, error) {
	return cel.NewEnv(append([]cel.EnvOption{cel.Variable("clusters", cel.ListType(cel.DynType)),
		cel.Variable("job", cel.DynType), cel.Variable("command", cel.DynType)}, b.EnvOptions()...)...)
}}

// NewCELSelector compiles expr under budget.
func NewCELSelector(expr string, budget celbudget.Budget) (*CELSelector, error) {
	env, err := selectorEnvs.Get(budget)
	if err != nil {
		return nil, fmt.Errorf("cluster selector: CEL environment: %w", err)
	}
	ast, iss := env.Compile(expr)
	if iss.Err() != nil {
		return nil, fmt.Errorf("cluster selector: %w", iss.Err())
	}
	prg, err := budget.Program(env, ast)
	if err != nil {
		return nil, fmt.Errorf("cluster selector: %w", err)
	}
	return &CELSelector{source: expr, prg: prg}, nil
}

// String returns the expression.
func (s *CELSelector) String() string { return s.source }

// SelectCluster evaluates the expression; an id that is not a candidate's
// is an error.
func (s *CELSelector) SelectCluster(ctx context.Context, job *Request, command *Command, clusters []*Cluster) (*Cluster, string, error) {
	list := make([]any, len(clusters))
	for i, c := range clusters {
		list[i] = resourceVars(&c.Resource)
	}
	vars := map[string]any{"clusters": list, "command": resourceVars(&command.Resource),
		"job": map[string]any{"id": job.JobID, "name": job.Name, "user": job.User, "tags": stringsAny(job.Tags)}}
	v, err := s.prg.Eval(ctx, vars)
	if err != nil {
		return nil, "", err
	}
	if v == types.NullValue {
		return nil, "", nil
	}
	id, ok := v.Value().(string)
	if !ok {
		return nil, "", fmt.Errorf("expression returned %s, want a cluster id or null", v.Type().TypeName())
	}
	for _, c := range clusters {
		if c.ID == id {
			return c, "chosen by the CEL selector", nil
		}
	}
	return nil, "", fmt.Errorf("expression chose %q, which is not one of the %d candidates", id, len(clusters))
}

func resourceVars(r *Resource) map[string]any {
	m := map[string]any{"id": r.ID, "name": r.Name, "user": r.User, "version": r.Version, "status": r.Status,
		"tags": stringsAny(r.Tags), "metadata": map[string]any{}}
	if len(r.Metadata) > 0 {
		var md map[string]any
		if json.Unmarshal(r.Metadata, &md) == nil {
			m["metadata"] = md
		}
	}
	return m
}

func stringsAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}
