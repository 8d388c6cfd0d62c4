package workflow

import (
	"fmt"
	"strings"

	"github.com/gaffer-sre/gaffer/orchestration/workflow/definition"
)

// dag is a step list drawn as an SVG: nodes in columns by their longest
// path from a root, edges between them.
type dag struct {
	Width, Height int
	Nodes         []dagNode
	Edges         []string // SVG path data
	// Bodies are the foreach steps' own graphs, drawn below (collapsible).
	Bodies []dagBody
}

type dagNode struct {
	ID, Label, Status, Class, Link string
	X, Y, W, H                     int
}

type dagBody struct {
	ID  string
	DAG dag
}

const (
	nodeW, nodeH = 170, 34
	colGap       = 50
	rowGap       = 14
	pad          = 10
)

// drawDAG lays out steps; status gives each step's status ("" when the
// graph is the definition's), link its page (a subworkflow's).
func drawDAG(steps []definition.Step, status func(id string) string) dag {
	level := map[string]int{}
	preds := map[string]int{}
	for _, s := range steps {
		for _, n := range s.Transition.Order {
			preds[n]++
		}
	}
	// Kahn's order; a step's column is its longest path from a root.
	queue := []string{}
	for _, s := range steps {
		if preds[s.ID] == 0 {
			queue = append(queue, s.ID)
		}
	}
	byID := map[string]definition.Step{}
	for _, s := range steps {
		byID[s.ID] = s
	}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		for _, n := range byID[id].Transition.Order {
			level[n] = max(level[n], level[id]+1)
			if preds[n]--; preds[n] == 0 {
				queue = append(queue, n)
			}
		}
	}
	rows := map[int]int{}
	pos := map[string][2]int{}
	var d dag
	for _, s := range steps {
		l := level[s.ID]
		x, y := pad+l*(nodeW+colGap), pad+rows[l]*(nodeH+rowGap)
		rows[l]++
		pos[s.ID] = [2]int{x, y}
		kind := s.Type
		if s.Kind != definition.KindStep {
			kind = s.Kind
		}
		st := ""
		if status != nil {
			st = status(s.ID)
		}
		n := dagNode{ID: s.ID, Label: truncateLabel(s.ID, 18) + " · " + kind, Status: st, Class: statusClass(st), X: x, Y: y, W: nodeW, H: nodeH}
		if s.Kind == definition.KindSubworkflow {
			if p, ok := s.Params["subworkflow_id"]; ok {
				if id, ok := p.Value.(string); ok {
					n.Link = "/workflows/" + id
				}
			}
		}
		d.Nodes = append(d.Nodes, n)
		d.Width = max(d.Width, x+nodeW+pad)
		d.Height = max(d.Height, y+nodeH+pad)
		if s.Kind == definition.KindForeach || s.Kind == definition.KindWhile {
			d.Bodies = append(d.Bodies, dagBody{ID: s.ID, DAG: drawDAG(s.Steps, nil)})
		}
	}
	for _, s := range steps {
		a := pos[s.ID]
		for _, n := range s.Transition.Order {
			b, ok := pos[n]
			if !ok {
				continue
			}
			x1, y1, x2, y2 := a[0]+nodeW, a[1]+nodeH/2, b[0], b[1]+nodeH/2
			d.Edges = append(d.Edges, fmt.Sprintf("M%d %d C%d %d %d %d %d %d", x1, y1, (x1+x2)/2, y1, (x1+x2)/2, y2, x2-2, y2))
		}
	}
	return d
}

func truncateLabel(s string, n int) string {
	if len([]rune(s)) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// statusClass is the badge class of a Maestro status.
func statusClass(s string) string {
	switch {
	case s == StepSucceeded || s == InstanceSucceeded:
		return "succeeded"
	case strings.HasSuffix(s, "FAILED") || s == StepTimedOut || s == InstanceTimedOut:
		return "failed"
	case s == StepRunning || s == InstanceInProgress:
		return "running"
	case s == StepStopped:
		return "cancelled"
	case s == StepCompletedWithError || s == InstancePaused:
		return "waiting"
	}
	return strings.ToLower(s)
}
