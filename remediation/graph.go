package remediation

import "fmt"

// graph is the server-drawn step graph of an execution: the runbook's
// steps top to bottom, coloured by their latest state, with the
// transitions between them.
type graph struct {
	Width, Height int
	Nodes         []graphNode
	Edges         []graphEdge
}

type graphNode struct {
	X, Y, W, H int
	Name, Type string
	Status     string
	Progress   string
}

type graphEdge struct {
	Path string
}

const (
	nodeW, nodeH, gapY, marginX = 220, 34, 22, 20
)

func layout(c *Compiled, steps []StepState) graph {
	latest := map[string]StepState{}
	for _, s := range steps {
		if s.Parent == "" {
			latest[s.Name] = s
		}
	}
	g := graph{Width: nodeW + 2*marginX + 160}
	pos := map[string]int{}
	for i, s := range c.Steps {
		y := 10 + i*(nodeH+gapY)
		n := graphNode{X: marginX, Y: y, W: nodeW, H: nodeH, Name: s.Name, Type: s.Type, Status: "notrun"}
		if st, ok := latest[s.Name]; ok {
			n.Status = st.Status
			if st.ItemsTotal > 0 {
				n.Progress = fmt.Sprintf("%d/%d", st.ItemsDone, st.ItemsTotal)
			}
		}
		pos[s.Name] = i
		g.Nodes = append(g.Nodes, n)
	}
	g.Height = 20 + len(c.Steps)*(nodeH+gapY)
	edge := func(from, to int, lane int) {
		x0 := marginX + nodeW
		y0 := 10 + from*(nodeH+gapY) + nodeH/2
		y1 := 10 + to*(nodeH+gapY) + nodeH/2
		if to == from+1 && lane == 0 {
			x := marginX + nodeW/2
			g.Edges = append(g.Edges, graphEdge{Path: fmt.Sprintf("M%d %d L%d %d", x, y0+nodeH/2, x, y1-nodeH/2-2)})
			return
		}
		bend := 30 + 18*lane
		g.Edges = append(g.Edges, graphEdge{Path: fmt.Sprintf("M%d %d C%d %d %d %d %d %d", x0, y0, x0+bend, y0, x0+bend, y1, x0+2, y1)})
	}
	for i, s := range c.Steps {
		cs := c.step(s.Name)
		lane := 0
		if len(cs.next) == 0 && i+1 < len(c.Steps) {
			edge(i, i+1, 0)
		}
		for _, t := range cs.next {
			for _, target := range t.targets {
				if j, ok := pos[target]; ok {
					edge(i, j, lane)
					lane++
				}
			}
		}
		if s.OnFailure != "" {
			if j, ok := pos[s.OnFailure]; ok {
				edge(i, j, lane+1)
			}
		}
	}
	return g
}
