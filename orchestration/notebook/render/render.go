package render

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"html/template"
	"regexp"
	"strings"

	"github.com/gaffer-sre/gaffer/orchestration/notebook/nbformat"
)

// CellView is one rendered cell.
type CellView struct {
	Index    int
	Type     string
	Prompt   string // "In [3]:" for a code cell that ran
	Source   string // code, shown escaped
	Markdown template.HTML
	Outputs  []template.HTML
	// Status is the cell's papermill status (pending, running,
	// completed, failed) when the notebook was run, else "".
	Status string
	Tags   []string
}

// Cells renders every cell of nb.
func Cells(nb *nbformat.Notebook) []CellView {
	out := make([]CellView, 0, len(nb.Cells))
	for i, c := range nb.Cells {
		v := CellView{Index: i, Type: c.CellType, Tags: c.Tags()}
		if pm, ok := c.Metadata["papermill"].(map[string]any); ok {
			v.Status, _ = pm["status"].(string)
		}
		switch c.CellType {
		case "markdown":
			v.Markdown = Markdown(c.Source)
		case "code":
			v.Source = c.Source
			v.Prompt = "In [ ]:"
			if c.ExecutionCount != nil {
				v.Prompt = fmt.Sprintf("In [%d]:", *c.ExecutionCount)
			}
			for _, o := range c.Outputs {
				v.Outputs = append(v.Outputs, Output(o))
			}
		default:
			v.Source = c.Source
		}
		out = append(out, v)
	}
	return out
}

var ansi = regexp.MustCompile(`\x1b\[[0-9;]*[A-Za-z]`)

func pre(class, text string) template.HTML {
	return template.HTML(`<pre class="` + class + `">` + html.EscapeString(ansi.ReplaceAllString(text, "")) + `</pre>`)
}

// mimeOrder is the preference among an output's representations.
var mimeOrder = []string{"image/png", "image/jpeg", "image/gif", "text/html", "text/markdown", "image/svg+xml", "application/json", "text/plain"}

// Output renders one output.
func Output(o *nbformat.Output) template.HTML {
	switch o.OutputType {
	case "stream":
		return pre("stream "+o.Name, o.Text)
	case "error":
		return pre("error", o.Ename+": "+o.Evalue+"\n"+strings.Join(o.Traceback, "\n"))
	}
	for mime := range o.Data {
		if strings.HasPrefix(mime, "application/scrapbook.scrap.") {
			return scrap(o.Data[mime])
		}
	}
	for _, mime := range mimeOrder {
		v, ok := o.Data[mime]
		if !ok {
			continue
		}
		s, _ := v.(string)
		switch mime {
		case "image/png", "image/jpeg", "image/gif":
			data := strings.Join(strings.Fields(s), "")
			if _, err := base64.StdEncoding.DecodeString(data); err != nil {
				continue
			}
			return template.HTML(`<img class="output" alt="` + mime + ` output" src="data:` + mime + `;base64,` + data + `">`)
		case "image/svg+xml":
			// An SVG shown through <img> runs no script.
			return template.HTML(`<img class="output" alt="SVG output" src="data:image/svg+xml;base64,` + base64.StdEncoding.EncodeToString([]byte(s)) + `">`)
		case "text/html":
			return `<div class="html-output">` + Sanitize(s) + `</div>`
		case "text/markdown":
			return `<div class="md">` + Markdown(s) + `</div>`
		case "application/json":
			b, _ := json.MarshalIndent(v, "", "  ")
			return pre("json", string(b))
		case "text/plain":
			return pre("text", s)
		}
	}
	return pre("muted", "(an output of a type this page does not show)")
}

func scrap(v any) template.HTML {
	m, _ := v.(map[string]any)
	name, _ := m["name"].(string)
	data, _ := json.Marshal(m["data"])
	if len(data) > 2000 {
		data = append(data[:2000], "…"...)
	}
	return template.HTML(`<div class="scrap">scrap <strong>` + html.EscapeString(name) + `</strong> = <code>` + html.EscapeString(string(data)) + `</code></div>`)
}
