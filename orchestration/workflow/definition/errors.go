package definition

import (
	"fmt"
	"strings"
)

// Problem is one thing wrong with a definition: where and why.
type Problem struct {
	// File is the name the definition was read from (may be empty).
	File string `json:"file,omitempty"`
	// Path is where in the definition, e.g. workflow.steps[2](job.3).transition.
	Path string `json:"path,omitempty"`
	// Line is the line in the file, when known (syntax errors, YAML).
	Line   int    `json:"line,omitempty"`
	Reason string `json:"reason"`
}

func (p Problem) String() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		if p.Line > 0 {
			fmt.Fprintf(&b, ":%d", p.Line)
		}
		b.WriteString(": ")
	} else if p.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", p.Line)
	}
	if p.Path != "" {
		b.WriteString(p.Path + ": ")
	}
	b.WriteString(p.Reason)
	return b.String()
}

// Error is every problem found in a definition; a definition with any
// is refused whole.
type Error struct {
	Problems []Problem `json:"problems"`
}

func (e *Error) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.String()
	}
	if len(parts) == 1 {
		return "invalid workflow: " + parts[0]
	}
	return fmt.Sprintf("invalid workflow (%d problems):\n  %s", len(parts), strings.Join(parts, "\n  "))
}

// problems collects Problems for one file.
type problems struct {
	file string
	list []Problem
}

func (ps *problems) add(path, format string, args ...any) {
	ps.list = append(ps.list, Problem{File: ps.file, Path: path, Reason: fmt.Sprintf(format, args...)})
}

func (ps *problems) err() error {
	if len(ps.list) == 0 {
		return nil
	}
	return &Error{Problems: ps.list}
}
