// Package scrapbook reads the values a notebook glued with scrapbook's
// sb.glue(name, value): display outputs carrying a scrap MIME type such as
// application/scrapbook.scrap.json+json, whose payload names the scrap and
// holds its data.
//
// Reference: https://nteract-scrapbook.readthedocs.io/en/latest/
package scrapbook

import (
	"fmt"
	"regexp"

	"github.com/gaffer-sre/gaffer/orchestration/notebook/nbformat"
)

// MIMEJSON and MIMEText are the MIME types of scraps glued with the json
// and text encoders (scrapbook's defaults for JSON-able values and strings).
const (
	MIMEJSON = "application/scrapbook.scrap.json+json"
	MIMEText = "application/scrapbook.scrap.text+json"
)

var scrapMIME = regexp.MustCompile(`^application/scrapbook\.scrap\.[a-z0-9._-]+\+json$`)

// Scrap is one glued value.
type Scrap struct {
	Name string
	// Data is the value: any JSON value for the json encoder, a string for
	// text, the encoder's own payload for others.
	Data any
	// Encoder is the scrapbook encoder that wrote it ("json", "text", …).
	Encoder string
	// Cell is the index of the cell that glued it.
	Cell int
}

// Read returns the scraps of nb in the order they were glued. A name glued
// twice appears twice; Values keeps the last.
func Read(nb *nbformat.Notebook) ([]Scrap, error) {
	var out []Scrap
	for i, c := range nb.Cells {
		for j, o := range c.Outputs {
			if o.OutputType != "display_data" && o.OutputType != "execute_result" {
				continue
			}
			for mime, payload := range o.Data {
				if !scrapMIME.MatchString(mime) {
					continue
				}
				s, err := parse(payload)
				if err != nil {
					return nil, fmt.Errorf("cells[%d].outputs[%d].data[%q]: %w", i, j, mime, err)
				}
				s.Cell = i
				out = append(out, s)
			}
		}
	}
	return out, nil
}

func parse(payload any) (Scrap, error) {
	m, ok := payload.(map[string]any)
	if !ok {
		return Scrap{}, fmt.Errorf("want a scrap object with name and data")
	}
	name, _ := m["name"].(string)
	if name == "" {
		return Scrap{}, fmt.Errorf("scrap has no name")
	}
	data, ok := m["data"]
	if !ok {
		return Scrap{}, fmt.Errorf("scrap %q has no data", name)
	}
	enc, _ := m["encoder"].(string)
	return Scrap{Name: name, Data: data, Encoder: enc}, nil
}

// Values returns the scraps of nb by name; a name glued again replaces
// the earlier value, as scrapbook's reader does.
func Values(nb *nbformat.Notebook) (map[string]any, error) {
	scraps, err := Read(nb)
	if err != nil {
		return nil, err
	}
	vals := make(map[string]any, len(scraps))
	for _, s := range scraps {
		vals[s.Name] = s.Data
	}
	return vals, nil
}
