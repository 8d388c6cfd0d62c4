package nbformat

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Marshal encodes the notebook as nbformat writes it: keys sorted, one
// space of indent, multiline text as lists of lines.
func (nb *Notebook) Marshal() ([]byte, error) {
	top := map[string]any{}
	for k, v := range nb.Extra {
		top[k] = v
	}
	meta := nb.Metadata
	if meta == nil {
		meta = map[string]any{}
	}
	top["metadata"] = meta
	top["nbformat"] = nb.Nbformat
	top["nbformat_minor"] = nb.NbformatMinor
	cells := make([]any, 0, len(nb.Cells))
	for _, c := range nb.Cells {
		cells = append(cells, c.object())
	}
	top["cells"] = cells
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(top); err != nil {
		return nil, fmt.Errorf("encode notebook: %w", err)
	}
	return buf.Bytes(), nil
}

func (c *Cell) object() map[string]any {
	o := map[string]any{}
	for k, v := range c.Extra {
		o[k] = v
	}
	o["cell_type"] = c.CellType
	if c.ID != "" {
		o["id"] = c.ID
	}
	o["source"] = splitLines(c.Source)
	meta := c.Metadata
	if meta == nil {
		meta = map[string]any{}
	}
	o["metadata"] = meta
	if c.CellType == "code" {
		o["execution_count"] = c.ExecutionCount
		outs := make([]any, 0, len(c.Outputs))
		for _, out := range c.Outputs {
			outs = append(outs, out.object())
		}
		o["outputs"] = outs
	} else if len(c.Attachments) > 0 {
		o["attachments"] = c.Attachments
	}
	return o
}

func (out *Output) object() map[string]any {
	o := map[string]any{}
	for k, v := range out.Extra {
		o[k] = v
	}
	o["output_type"] = out.OutputType
	switch out.OutputType {
	case "stream":
		o["name"] = out.Name
		o["text"] = splitLines(out.Text)
	case "display_data", "execute_result":
		data := map[string]any{}
		for mime, v := range out.Data {
			if s, ok := v.(string); ok && !strings.HasSuffix(mime, "json") {
				data[mime] = splitLines(s)
			} else {
				data[mime] = v
			}
		}
		o["data"] = data
		meta := out.Metadata
		if meta == nil {
			meta = map[string]any{}
		}
		o["metadata"] = meta
		if out.OutputType == "execute_result" {
			o["execution_count"] = out.ExecutionCount
		}
	case "error":
		o["ename"] = out.Ename
		o["evalue"] = out.Evalue
		tb := out.Traceback
		if tb == nil {
			tb = []string{}
		}
		o["traceback"] = tb
	}
	return o
}

// splitLines splits text after each newline, as nbformat stores it.
func splitLines(s string) []string {
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if lines == nil {
		lines = []string{}
	}
	return lines
}

// ReadFile reads and validates a notebook file.
func ReadFile(path string) (*Notebook, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read notebook: %w", err)
	}
	nb, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return nb, nil
}

// WriteFile writes the notebook to path atomically: a reader, or a crash,
// sees the previous file or the new one, never half of one.
func (nb *Notebook) WriteFile(path string) error {
	data, err := nb.Marshal()
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write notebook: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write notebook %s: %w", path, err)
	}
	return nil
}

// New returns an empty nbformat 4.5 notebook.
func New() *Notebook {
	return &Notebook{Nbformat: 4, NbformatMinor: 5, Metadata: map[string]any{}, Extra: map[string]json.RawMessage{}}
}
