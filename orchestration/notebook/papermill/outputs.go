package papermill

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/gaffer-sre/gaffer/orchestration/notebook/nbformat"
)

// collector turns a cell's iopub messages into its nbformat outputs,
// merging consecutive stream text, honouring clear_output and
// update_display_data, and keeping at most limit bytes.
type collector struct {
	cell       *nbformat.Cell
	limit      int
	used       int
	dropped    int
	clearNext  bool
	displayIDs map[string][]*nbformat.Output
}

func newCollector(c *nbformat.Cell, limit int) *collector {
	return &collector{cell: c, limit: limit, displayIDs: map[string][]*nbformat.Output{}}
}

type iopubContent struct {
	Name           string         `json:"name"`
	Text           string         `json:"text"`
	Data           map[string]any `json:"data"`
	Metadata       map[string]any `json:"metadata"`
	ExecutionCount *int           `json:"execution_count"`
	Ename          string         `json:"ename"`
	Evalue         string         `json:"evalue"`
	Traceback      []string       `json:"traceback"`
	Wait           bool           `json:"wait"`
	Transient      struct {
		DisplayID string `json:"display_id"`
	} `json:"transient"`
}

// handle is the jupyter.OutputHandler of the cell.
func (c *collector) handle(msgType string, raw json.RawMessage) {
	var m iopubContent
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if d.Decode(&m) != nil {
		return
	}
	if msgType == "clear_output" {
		if m.Wait {
			c.clearNext = true
		} else {
			c.clear()
		}
		return
	}
	if msgType == "update_display_data" {
		for _, o := range c.displayIDs[m.Transient.DisplayID] {
			o.Data, o.Metadata = m.Data, orEmpty(m.Metadata)
		}
		return
	}
	if c.clearNext {
		c.clear()
	}
	var out *nbformat.Output
	switch msgType {
	case "stream":
		out = &nbformat.Output{OutputType: "stream", Name: m.Name, Text: m.Text}
	case "display_data", "execute_result":
		out = &nbformat.Output{OutputType: msgType, Data: m.Data, Metadata: orEmpty(m.Metadata), ExecutionCount: m.ExecutionCount}
		if out.Data == nil {
			out.Data = map[string]any{}
		}
	case "error":
		out = &nbformat.Output{OutputType: "error", Ename: m.Ename, Evalue: m.Evalue, Traceback: m.Traceback}
	default:
		return
	}
	c.add(out)
	if id := m.Transient.DisplayID; id != "" && msgType == "display_data" {
		c.displayIDs[id] = append(c.displayIDs[id], out)
	}
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

func (c *collector) clear() {
	c.cell.Outputs = []*nbformat.Output{}
	c.used = 0
	c.clearNext = false
}

// add appends an output within the byte limit: a stream is cut to fit,
// anything else that does not fit is dropped and counted.
func (c *collector) add(out *nbformat.Output) {
	size := outputSize(out)
	if out.OutputType != "error" && c.used+size > c.limit {
		if out.OutputType != "stream" || c.used >= c.limit {
			c.dropped += size
			return
		}
		keep := c.limit - c.used
		c.dropped += len(out.Text) - keep
		out.Text = out.Text[:keep]
		size = keep
	}
	c.used += size
	outs := c.cell.Outputs
	if n := len(outs); n > 0 && out.OutputType == "stream" && outs[n-1].OutputType == "stream" && outs[n-1].Name == out.Name {
		outs[n-1].Text += out.Text
		return
	}
	c.cell.Outputs = append(outs, out)
}

// finish adds the truncation note, if output was dropped.
func (c *collector) finish() {
	if c.dropped == 0 {
		return
	}
	note := fmt.Sprintf("\n[gaffer: output truncated: %d more bytes were dropped; a cell keeps at most %d bytes of output]\n", c.dropped, c.limit)
	c.cell.Outputs = append(c.cell.Outputs, &nbformat.Output{OutputType: "stream", Name: "stderr", Text: note})
	c.dropped = 0
}

func outputSize(o *nbformat.Output) int {
	switch o.OutputType {
	case "stream":
		return len(o.Text)
	case "error":
		n := len(o.Ename) + len(o.Evalue)
		for _, t := range o.Traceback {
			n += len(t)
		}
		return n
	}
	b, _ := json.Marshal(o.Data)
	return len(b)
}

// insertErrorMarkers puts papermill's two markdown cells tagged
// papermill-error-cell-tag in: a link at the top to the failed cell, and
// the anchor it links to just before that cell.
func insertErrorMarkers(nb *nbformat.Notebook, failed int) {
	count := "?"
	if c := nb.Cells[failed]; c.ExecutionCount != nil {
		count = fmt.Sprint(*c.ExecutionCount)
	}
	style := `style="color:red; font-size:2em;"`
	top := &nbformat.Cell{CellType: "markdown", Metadata: map[string]any{"tags": []any{TagErrorMarker}},
		Source: fmt.Sprintf(`<span %s>The run stopped with an exception in <a href="#papermill-error-cell">cell In [%s]</a>.</span>`, style, count)}
	anchor := &nbformat.Cell{CellType: "markdown", Metadata: map[string]any{"tags": []any{TagErrorMarker}},
		Source: fmt.Sprintf(`<span id="papermill-error-cell" %s>The run raised an exception in the cell below and stopped there.</span>`, style)}
	if nb.NbformatMinor >= 5 {
		top.ID = uniqueID(nb, "papermill-error-message")
		anchor.ID = uniqueID(nb, "papermill-error-anchor")
	}
	cells := append([]*nbformat.Cell{}, nb.Cells[:failed]...)
	cells = append(cells, anchor)
	cells = append(cells, nb.Cells[failed:]...)
	nb.Cells = append([]*nbformat.Cell{top}, cells...)
}
