package resolve

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
)

// ErrNoCommand is returned (wrapped) when no active command matches the
// job's command criterion.
var ErrNoCommand = errors.New("no command matches the command criterion")

// ErrNoCluster is returned (wrapped) when commands match but none has a
// cluster its and the job's cluster criteria select.
var ErrNoCluster = errors.New("no cluster matches the cluster criteria of any candidate command")

// Request is what resolution reads of a job.
type Request struct {
	JobID string
	Name  string
	User  string
	Tags  []string
	// Command selects the candidate commands.
	Command Criterion
	// Clusters, in priority order, are merged with each command's
	// cluster criteria; at least one is required.
	Clusters []Criterion
}

// Validate reports a request that cannot be resolved.
func (r *Request) Validate() error {
	if r.Command.IsEmpty() {
		return errors.New("commandCriteria: must name at least one tag (or an id, name, version or status)")
	}
	if len(r.Clusters) == 0 {
		return errors.New("clusterCriterias: at least one cluster criterion is required")
	}
	for i, c := range r.Clusters {
		if c.IsEmpty() {
			return fmt.Errorf("clusterCriterias[%d]: must name at least one tag (or an id, name, version or status)", i)
		}
	}
	return nil
}

// Options tune one resolution.
type Options struct {
	// Selector is the load balancer; nil means Random.
	Selector ClusterSelector
	// IntN returns a random number in [0, n); nil means math/rand/v2's.
	IntN func(n int) int
	// Explain asks for an Explanation.
	Explain bool
}

// Resolution is the command and cluster a job runs with.
type Resolution struct {
	Command *Command
	Cluster *Cluster
	// Criterion is the merged cluster criterion that selected Cluster's
	// candidates.
	Criterion Criterion
	// Candidates is how many clusters the load balancer chose among.
	Candidates int
	// Commands is how many commands had clusters.
	Commands int
	// Rationale says why the load balancer chose Cluster.
	Rationale string
	// Explanation is set when Options.Explain asked for it, also when
	// resolution fails.
	Explanation *Explanation
}

// candidate is a command that matched the command criterion and the
// clusters its first fruitful merged criterion selects.
type candidate struct {
	cmd      *Command
	clusters []int32
	// criterion is the index, in tried, of the merged criterion that
	// selected clusters, or -1.
	criterion int
	tried     []attempt
}

// attempt is one merge of a command's cluster criterion with a job's.
type attempt struct {
	merged  Criterion
	skipped string // why the pair could not merge
	matched int
}

// Resolve picks a command and a cluster for req. The error wraps
// ErrNoCommand or ErrNoCluster when there is none; the Resolution still
// carries its Explanation then.
func (x *Index) Resolve(ctx context.Context, req *Request, opt Options) (*Resolution, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	intN := opt.IntN
	if intN == nil {
		intN = rand.IntN
	}
	out := &Resolution{}
	cmds := x.cmdTab.match(req.Command, StatusActive, nil)
	cache := map[string][]int32{}
	var cands []candidate
	var withClusters []int
	for _, p := range cmds {
		cand := candidate{cmd: x.commands[p], criterion: -1}
		for _, cc := range cand.cmd.ClusterCriteria {
			for _, jc := range req.Clusters {
				merged, why, ok := Merge(cc, jc)
				a := attempt{merged: merged, skipped: why}
				if ok && cand.criterion < 0 {
					key := merged.String()
					ps, seen := cache[key]
					if !seen {
						ps = x.cluTab.match(merged, StatusUp, nil)
						cache[key] = ps
					}
					a.matched = len(ps)
					if len(ps) > 0 {
						cand.clusters, cand.criterion = ps, len(cand.tried)
					}
				}
				cand.tried = append(cand.tried, a)
			}
		}
		if cand.criterion >= 0 {
			withClusters = append(withClusters, len(cands))
		}
		cands = append(cands, cand)
	}
	out.Commands = len(withClusters)
	var chosen *candidate
	var err error
	switch {
	case len(cmds) == 0:
		err = fmt.Errorf("%w (%s)", ErrNoCommand, req.Command)
	case len(withClusters) == 0:
		err = fmt.Errorf("%w: %d %s tried", ErrNoCluster, len(cmds), plural(len(cmds), "command", "commands"))
	default:
		chosen = &cands[withClusters[intN(len(withClusters))]]
		clusters := make([]*Cluster, len(chosen.clusters))
		for i, p := range chosen.clusters {
			clusters[i] = x.clusters[p]
		}
		out.Command, out.Criterion, out.Candidates = chosen.cmd, chosen.tried[chosen.criterion].merged, len(clusters)
		out.Cluster, out.Rationale, err = selectCluster(ctx, opt.Selector, intN, req, chosen.cmd, clusters)
	}
	if opt.Explain {
		out.Explanation = x.explain(req, cands, chosen, out.Cluster)
	}
	if err != nil {
		return out, err
	}
	return out, nil
}

// selectCluster asks sel, then falls back to a random choice.
func selectCluster(ctx context.Context, sel ClusterSelector, intN func(int) int, req *Request, cmd *Command, clusters []*Cluster) (*Cluster, string, error) {
	if len(clusters) == 1 {
		return clusters[0], "the only candidate", nil
	}
	if sel != nil {
		c, why, err := sel.SelectCluster(ctx, req, cmd, clusters)
		if err != nil {
			return nil, "", fmt.Errorf("cluster selector: %w", err)
		}
		if c != nil {
			return c, why, nil
		}
	}
	return clusters[intN(len(clusters))], fmt.Sprintf("chosen at random among %d", len(clusters)), nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// describe renders the attempts of a candidate for explanations.
func (c *candidate) describe() string {
	var parts []string
	for i, a := range c.tried {
		switch {
		case a.skipped != "":
			parts = append(parts, fmt.Sprintf("#%d cannot merge: %s", i+1, a.skipped))
		case c.criterion >= 0 && i > c.criterion:
			// not evaluated: an earlier criterion won
		default:
			parts = append(parts, fmt.Sprintf("#%d %s: %d %s", i+1, a.merged, a.matched, plural(a.matched, "cluster", "clusters")))
		}
	}
	return strings.Join(parts, "; ")
}
