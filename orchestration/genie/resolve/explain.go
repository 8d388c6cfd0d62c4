package resolve

import "fmt"

// explainLimit bounds each list of an Explanation.
const explainLimit = 200

// Verdict says why resolution kept or dropped one command or cluster.
type Verdict struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Kept   bool   `json:"kept"`
	Reason string `json:"reason"`
}

// Explanation lists the commands and clusters a job's criteria came near
// — those matching the criterion, or sharing its name or one of its
// tags — with the reason each was kept or dropped (at most 200 of each).
type Explanation struct {
	Commands []Verdict `json:"commands"`
	// Clusters are judged against the chosen command's merged criteria;
	// with no command chosen, against the first candidate's.
	Clusters []Verdict `json:"clusters"`
}

func (x *Index) explain(req *Request, cands []candidate, chosen *candidate, cluster *Cluster) *Explanation {
	e := &Explanation{Commands: []Verdict{}, Clusters: []Verdict{}}
	judged := map[string]bool{}
	for i := range cands {
		c := &cands[i]
		judged[c.cmd.ID] = true
		v := Verdict{ID: c.cmd.ID, Name: c.cmd.Name}
		switch {
		case c == chosen:
			v.Kept, v.Reason = true, "chosen; clusters from "+c.describe()
		case c.criterion >= 0:
			v.Kept, v.Reason = true, "has clusters but another command was chosen at random; "+c.describe()
		case len(c.tried) == 0:
			v.Reason = "matches the command criterion but has no cluster criteria"
		default:
			v.Reason = "no cluster matches: " + c.describe()
		}
		if len(e.Commands) < explainLimit {
			e.Commands = append(e.Commands, v)
		}
	}
	for _, p := range x.cmdTab.near(req.Command, explainLimit) {
		cmd := x.commands[p]
		if judged[cmd.ID] || len(e.Commands) >= explainLimit {
			continue
		}
		e.Commands = append(e.Commands, Verdict{ID: cmd.ID, Name: cmd.Name,
			Reason: "does not match the command criterion: " + mismatch(&cmd.Resource, req.Command, StatusActive)})
	}
	subject := chosen
	if subject == nil && len(cands) > 0 {
		subject = &cands[0]
	}
	if subject == nil {
		return e
	}
	seen := map[int32]bool{}
	for i, a := range subject.tried {
		if a.skipped != "" {
			continue
		}
		for _, p := range x.cluTab.near(a.merged, explainLimit) {
			if seen[p] || len(e.Clusters) >= explainLimit {
				continue
			}
			seen[p] = true
			cl := x.clusters[p]
			e.Clusters = append(e.Clusters, judgeCluster(cl, subject, i, cluster))
		}
	}
	return e
}

// judgeCluster explains cl against the attempts of cand, first met at
// attempt first.
func judgeCluster(cl *Cluster, cand *candidate, first int, chosen *Cluster) Verdict {
	v := Verdict{ID: cl.ID, Name: cl.Name}
	var why string
	for i := first; i < len(cand.tried); i++ {
		a := cand.tried[i]
		if a.skipped != "" {
			continue
		}
		m := mismatch(&cl.Resource, a.merged, StatusUp)
		if m != "" {
			if why == "" {
				why = fmt.Sprintf("criterion #%d %s: %s", i+1, a.merged, m)
			}
			continue
		}
		switch {
		case i == cand.criterion && cl == chosen:
			v.Kept, v.Reason = true, fmt.Sprintf("matches criterion #%d %s; chosen by the load balancer", i+1, a.merged)
		case i == cand.criterion:
			v.Kept, v.Reason = true, fmt.Sprintf("matches criterion #%d %s; the load balancer chose another", i+1, a.merged)
		case cand.criterion >= 0 && i > cand.criterion:
			v.Reason = fmt.Sprintf("matches criterion #%d %s, but #%d already selected clusters", i+1, a.merged, cand.criterion+1)
		default:
			v.Reason = fmt.Sprintf("matches criterion #%d %s", i+1, a.merged)
		}
		return v
	}
	v.Reason = why
	return v
}
