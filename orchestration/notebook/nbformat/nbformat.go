// Package nbformat reads, validates and writes Jupyter notebooks in
// nbformat 4. Fields it does not know are kept and written back, so a
// notebook survives a round trip through Gaffer unchanged in meaning.
//
// Reference: https://nbformat.readthedocs.io/en/latest/format_description.html
package nbformat

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Notebook is an nbformat 4 notebook.
type Notebook struct {
	Metadata      map[string]any
	Nbformat      int
	NbformatMinor int
	Cells         []*Cell
	// Extra holds top-level fields this package does not know.
	Extra map[string]json.RawMessage
}

// Cell is a code, markdown or raw cell.
type Cell struct {
	// ID is the cell's id (nbformat 4.5 and later), or "".
	ID       string
	CellType string
	// Source is the cell's text; a list of lines on disk is joined.
	Source   string
	Metadata map[string]any
	// Outputs and ExecutionCount belong to code cells.
	Outputs        []*Output
	ExecutionCount *int
	// Attachments belong to markdown and raw cells.
	Attachments json.RawMessage
	Extra       map[string]json.RawMessage
}

// Output is one output of a code cell.
type Output struct {
	// OutputType is stream, display_data, execute_result or error.
	OutputType string
	// Name and Text belong to stream outputs (Name is stdout or stderr).
	Name string
	Text string
	// Data maps MIME types to content; Metadata is per MIME type.
	Data           map[string]any
	Metadata       map[string]any
	ExecutionCount *int
	// Ename, Evalue and Traceback belong to error outputs.
	Ename     string
	Evalue    string
	Traceback []string
	Extra     map[string]json.RawMessage
}

// Tags returns the cell's metadata.tags.
func (c *Cell) Tags() []string {
	raw, _ := c.Metadata["tags"].([]any)
	tags := make([]string, 0, len(raw))
	for _, t := range raw {
		if s, ok := t.(string); ok {
			tags = append(tags, s)
		}
	}
	return tags
}

// HasTag reports whether the cell carries tag.
func (c *Cell) HasTag(tag string) bool {
	for _, t := range c.Tags() {
		if t == tag {
			return true
		}
	}
	return false
}

// Parse decodes and validates a notebook; the error names the field that
// is wrong, as a path such as cells[3].outputs[0].output_type.
func Parse(data []byte) (*Notebook, error) {
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] != '{' {
		return nil, fmt.Errorf("notebook: want a JSON object")
	}
	var top map[string]json.RawMessage
	if err := decode(data, &top); err != nil {
		return nil, fmt.Errorf("notebook is not valid JSON: %w", err)
	}
	if top == nil {
		return nil, fmt.Errorf("notebook: want a JSON object")
	}
	nb := &Notebook{Extra: map[string]json.RawMessage{}}
	if err := take(top, "nbformat", "", &nb.Nbformat, true); err != nil {
		return nil, err
	}
	if nb.Nbformat != 4 {
		return nil, fmt.Errorf("nbformat: version %d is not supported, want 4", nb.Nbformat)
	}
	if err := take(top, "nbformat_minor", "", &nb.NbformatMinor, true); err != nil {
		return nil, err
	}
	if nb.NbformatMinor < 0 {
		return nil, fmt.Errorf("nbformat_minor: %d is negative", nb.NbformatMinor)
	}
	if err := take(top, "metadata", "", &nb.Metadata, true); err != nil {
		return nil, err
	}
	var cells []json.RawMessage
	if err := take(top, "cells", "", &cells, true); err != nil {
		return nil, err
	}
	nb.Extra = top
	ids := map[string]int{}
	for i, raw := range cells {
		path := fmt.Sprintf("cells[%d]", i)
		c, err := parseCell(raw, path)
		if err != nil {
			return nil, err
		}
		if c.ID != "" {
			if j, dup := ids[c.ID]; dup {
				return nil, fmt.Errorf("%s.id: %q is also the id of cells[%d]", path, c.ID, j)
			}
			ids[c.ID] = i
		}
		nb.Cells = append(nb.Cells, c)
	}
	return nb, nil
}

// decode unmarshals with numbers kept as json.Number, so that metadata
// written back keeps its integers exact.
func decode(data []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return fmt.Errorf("trailing data after the JSON value")
	}
	return nil
}

// take moves field name from obj into v, reporting a missing required
// field or a value of the wrong type under its path.
func take(obj map[string]json.RawMessage, name, path string, v any, required bool) error {
	raw, ok := obj[name]
	full := name
	if path != "" {
		full = path + "." + name
	}
	if !ok {
		if required {
			return fmt.Errorf("%s: missing", full)
		}
		return nil
	}
	delete(obj, name)
	if err := decode(raw, v); err != nil {
		return fmt.Errorf("%s: %s", full, typeProblem(raw, v))
	}
	return nil
}

func typeProblem(raw json.RawMessage, v any) string {
	want := "a value of another type"
	switch v.(type) {
	case *int, **int:
		want = "an integer"
	case *string:
		want = "a string"
	case *map[string]any, *map[string]json.RawMessage:
		want = "an object"
	case *[]json.RawMessage, *[]string:
		want = "an array"
	}
	got := strings.TrimSpace(string(raw))
	if len(got) > 40 {
		got = got[:40] + "…"
	}
	return "want " + want + ", got " + got
}

var cellTypes = map[string]bool{"code": true, "markdown": true, "raw": true}

func parseCell(raw json.RawMessage, path string) (*Cell, error) {
	var obj map[string]json.RawMessage
	if err := decode(raw, &obj); err != nil || obj == nil {
		return nil, fmt.Errorf("%s: want an object", path)
	}
	c := &Cell{}
	if err := take(obj, "cell_type", path, &c.CellType, true); err != nil {
		return nil, err
	}
	if !cellTypes[c.CellType] {
		return nil, fmt.Errorf("%s.cell_type: %q is not code, markdown or raw", path, c.CellType)
	}
	if err := take(obj, "id", path, &c.ID, false); err != nil {
		return nil, err
	}
	if _, ok := obj["id"]; ok || c.ID != "" {
		if err := checkCellID(c.ID); err != nil {
			return nil, fmt.Errorf("%s.id: %w", path, err)
		}
	}
	src, err := takeMultiline(obj, "source", path, true)
	if err != nil {
		return nil, err
	}
	c.Source = src
	if err := take(obj, "metadata", path, &c.Metadata, true); err != nil {
		return nil, err
	}
	if c.Metadata == nil {
		return nil, fmt.Errorf("%s.metadata: want an object, got null", path)
	}
	if c.CellType == "code" {
		if err := take(obj, "execution_count", path, &c.ExecutionCount, true); err != nil {
			return nil, err
		}
		var outs []json.RawMessage
		if err := take(obj, "outputs", path, &outs, true); err != nil {
			return nil, err
		}
		for i, o := range outs {
			out, err := parseOutput(o, fmt.Sprintf("%s.outputs[%d]", path, i))
			if err != nil {
				return nil, err
			}
			c.Outputs = append(c.Outputs, out)
		}
	} else if a, ok := obj["attachments"]; ok {
		c.Attachments = a
		delete(obj, "attachments")
	}
	c.Extra = obj
	return c, nil
}

func checkCellID(id string) error {
	if len(id) < 1 || len(id) > 64 {
		return fmt.Errorf("%q must be 1 to 64 characters", id)
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return fmt.Errorf("%q may hold only letters, digits, '-' and '_'", id)
		}
	}
	return nil
}

// takeMultiline reads a string or a list of strings, as nbformat writes
// long text.
func takeMultiline(obj map[string]json.RawMessage, name, path string, required bool) (string, error) {
	raw, ok := obj[name]
	if !ok {
		if required {
			return "", fmt.Errorf("%s.%s: missing", path, name)
		}
		return "", nil
	}
	delete(obj, name)
	s, err := multiline(raw)
	if err != nil {
		return "", fmt.Errorf("%s.%s: %w", path, name, err)
	}
	return s, nil
}

func multiline(raw json.RawMessage) (string, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, nil
	}
	var lines []string
	if err := json.Unmarshal(raw, &lines); err != nil {
		return "", fmt.Errorf("want a string or a list of strings")
	}
	return strings.Join(lines, ""), nil
}

var outputTypes = map[string]bool{"stream": true, "display_data": true, "execute_result": true, "error": true}

func parseOutput(raw json.RawMessage, path string) (*Output, error) {
	var obj map[string]json.RawMessage
	if err := decode(raw, &obj); err != nil || obj == nil {
		return nil, fmt.Errorf("%s: want an object", path)
	}
	o := &Output{}
	if err := take(obj, "output_type", path, &o.OutputType, true); err != nil {
		return nil, err
	}
	if !outputTypes[o.OutputType] {
		return nil, fmt.Errorf("%s.output_type: %q is not stream, display_data, execute_result or error", path, o.OutputType)
	}
	var err error
	switch o.OutputType {
	case "stream":
		if err = take(obj, "name", path, &o.Name, true); err != nil {
			return nil, err
		}
		if o.Name != "stdout" && o.Name != "stderr" {
			return nil, fmt.Errorf("%s.name: %q is not stdout or stderr", path, o.Name)
		}
		if o.Text, err = takeMultiline(obj, "text", path, true); err != nil {
			return nil, err
		}
	case "display_data", "execute_result":
		if o.OutputType == "execute_result" {
			if err = take(obj, "execution_count", path, &o.ExecutionCount, true); err != nil {
				return nil, err
			}
		}
		if err = take(obj, "data", path, &o.Data, true); err != nil {
			return nil, err
		}
		if err = take(obj, "metadata", path, &o.Metadata, true); err != nil {
			return nil, err
		}
		for mime, v := range o.Data {
			if lines, ok := v.([]any); ok && !strings.HasSuffix(mime, "json") && isStrings(lines) {
				o.Data[mime] = joinLines(lines)
			}
		}
	case "error":
		if err = take(obj, "ename", path, &o.Ename, true); err != nil {
			return nil, err
		}
		if err = take(obj, "evalue", path, &o.Evalue, true); err != nil {
			return nil, err
		}
		if err = take(obj, "traceback", path, &o.Traceback, true); err != nil {
			return nil, err
		}
	}
	o.Extra = obj
	return o, nil
}

func isStrings(v []any) bool {
	for _, x := range v {
		if _, ok := x.(string); !ok {
			return false
		}
	}
	return true
}

func joinLines(v []any) string {
	var b strings.Builder
	for _, x := range v {
		b.WriteString(x.(string))
	}
	return b.String()
}
