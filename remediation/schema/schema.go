// Package schema compiles JSON Schemas (draft 2020-12 unless the schema
// says otherwise) and validates JSON values against them, reporting each
// problem with the JSON pointer of the value at fault. Runbooks, runbook
// parameters, approval answers and agent action parameters all use it.
package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// Schema is a compiled JSON Schema.
type Schema struct {
	sch *jsonschema.Schema
	// Source is the schema as given.
	Source json.RawMessage
}

// Problem is one reason a value does not match a schema.
type Problem struct {
	// Pointer is the JSON pointer of the value at fault ("" for the root).
	Pointer string
	Message string
}

// Error lists the problems of a value; it is what Validate returns.
type Error struct {
	Problems []Problem
}

func (e *Error) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		where := p.Pointer
		if where == "" {
			where = "/"
		}
		parts[i] = where + ": " + p.Message
	}
	return strings.Join(parts, "; ")
}

// Compile compiles the JSON Schema in src (JSON). Remote references are
// not fetched.
func Compile(name string, src []byte) (*Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(src))
	if err != nil {
		return nil, fmt.Errorf("schema %s: not JSON: %w", name, err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.UseLoader(noLoader{})
	url := "mem:///" + name + ".json"
	if err := c.AddResource(url, doc); err != nil {
		return nil, fmt.Errorf("schema %s: %w", name, err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("schema %s: %w", name, err)
	}
	return &Schema{sch: sch, Source: append(json.RawMessage(nil), src...)}, nil
}

type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("schema references are not fetched: %s", url)
}

var printer = message.NewPrinter(language.English)

// Validate checks v, a value as encoding/json decodes it with UseNumber
// (or as ValidateJSON does), and returns an *Error listing the problems.
func (s *Schema) Validate(v any) error {
	err := s.sch.Validate(v)
	if err == nil {
		return nil
	}
	ve, ok := errors.AsType[*jsonschema.ValidationError](err)
	if !ok {
		return err
	}
	out := &Error{}
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			out.Problems = append(out.Problems, Problem{Pointer: pointer(e.InstanceLocation),
				Message: e.ErrorKind.LocalizedString(printer)})
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	sort.SliceStable(out.Problems, func(i, j int) bool { return out.Problems[i].Pointer < out.Problems[j].Pointer })
	return out
}

// ValidateJSON checks the JSON document b.
func (s *Schema) ValidateJSON(b []byte) error {
	v, err := Decode(b)
	if err != nil {
		return err
	}
	return s.Validate(v)
}

// Decode reads JSON the way Validate expects values (numbers as
// json.Number).
func Decode(b []byte) (any, error) {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	return v, nil
}

func pointer(loc []string) string {
	var b strings.Builder
	for _, t := range loc {
		b.WriteByte('/')
		b.WriteString(strings.ReplaceAll(strings.ReplaceAll(t, "~", "~0"), "/", "~1"))
	}
	return b.String()
}
