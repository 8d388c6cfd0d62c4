package remediation_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gaffer-sre/gaffer/remediation"
)

func TestExampleRunbooksParse(t *testing.T) {
	files, _ := filepath.Glob("../examples/runbooks/*.yaml")
	if len(files) < 4 {
		t.Fatalf("found %d example runbooks", len(files))
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := remediation.Parse(b); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// TestParseErrorsPointAtTheLine checks that schema errors and the rules
// beyond the schema both name the line of the value at fault.
func TestParseErrorsPointAtTheLine(t *testing.T) {
	cases := []struct {
		name, src string
		line      int
		want      string
	}{
		{"unknown step type", `name: x
steps:
  - name: a
    type: teleport
`, 4, "/steps/0/type"},
		{"missing field of a type", `name: x
steps:
  - name: a
    type: noop
  - name: b
    type: sleep
`, 5, "/steps/1"},
		{"unknown field", `name: x
steps:
  - name: a
    type: noop
    colour: blue
`, 3, "/steps/0"},
		{"bad CEL", `name: x
steps:
  - name: a
    type: noop
    next:
      - if: "result ==="
        goto: end
`, 6, "/steps/0/next/0/if"},
		{"unknown goto", `name: x
steps:
  - name: a
    type: noop
    next:
      - goto: nowhere
`, 6, "/steps/0/next/0/goto"},
		{"duplicate step", `name: x
steps:
  - name: a
    type: noop
  - name: a
    type: noop
`, 5, "/steps/1/name"},
		{"bad template", `name: x
steps:
  - name: a
    type: noop
    output: "${{ 1 + }}"
`, 5, "/steps/0/output"},
		{"bad cron", `name: x
schedule: {cron: "every tuesday"}
steps:
  - name: a
    type: noop
`, 2, "/schedule/cron"},
		{"yaml syntax", "name: x\ndescription: a\nsteps: [\n  {name: a, type: noop\n", 3, ""},
		{"duplicate key", "name: x\nname: y\nsteps: []\n", 2, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := remediation.Parse([]byte(c.src))
			var pe *remediation.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("want a ParseError, got %v", err)
			}
			for _, p := range pe.Problems {
				if p.Line == c.line && strings.HasPrefix(p.Path, c.want) {
					return
				}
			}
			t.Fatalf("no problem at line %d path %s: %+v", c.line, c.want, pe.Problems)
		})
	}
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("../examples/runbooks/*.yaml")
	for _, file := range files {
		b, _ := os.ReadFile(file)
		f.Add(b)
	}
	f.Add([]byte("name: x\nsteps:\n  - {name: a, type: noop, output: '${{ [1,2].map(x, x*2) }}'}\n"))
	f.Add([]byte("&a [*a, *a]"))
	f.Fuzz(func(t *testing.T, src []byte) {
		c, err := remediation.Parse(src)
		if err != nil {
			var pe *remediation.ParseError
			if !errors.As(err, &pe) || len(pe.Problems) == 0 {
				t.Fatalf("error is not a ParseError with problems: %v", err)
			}
			return
		}
		if c.Name == "" || len(c.Steps) == 0 {
			t.Fatalf("parsed a runbook without name or steps: %q", src)
		}
	})
}
