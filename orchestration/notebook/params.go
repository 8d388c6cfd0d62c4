package notebook

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/gaffer-sre/gaffer/orchestration/notebook/nbformat"
	"github.com/gaffer-sre/gaffer/orchestration/notebook/papermill"
)

// FormParam is a parameter the run form offers: a name assigned in the
// notebook's parameters cell and the literal it is given there.
type FormParam struct {
	Name    string
	Default string
	Comment string
}

var assignment = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*)\s*(?::\s*[^=]+)?=\s*(.*?)\s*(?:#\s*(.*))?$`)

// FormParams reads the simple assignments (one per line) of the cell
// tagged parameters.
func FormParams(nb *nbformat.Notebook) []FormParam {
	var out []FormParam
	for _, c := range nb.Cells {
		if !c.HasTag(papermill.TagParameters) {
			continue
		}
		for _, line := range strings.Split(c.Source, "\n") {
			if m := assignment.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
				out = append(out, FormParam{Name: m[1], Default: m[2], Comment: m[3]})
			}
		}
		break
	}
	return out
}

// FormValue reads what a person typed for a parameter: a Python string
// literal ('x' or "x"), True, False, None or a number, else the text as
// a string.
func FormValue(s string) any {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && (s[0] == '\'' || s[0] == '"') && s[len(s)-1] == s[0] {
		body := s[1 : len(s)-1]
		if s[0] == '\'' {
			body = strings.ReplaceAll(strings.ReplaceAll(body, `\'`, `'`), `"`, `\"`)
		}
		if u, err := strconv.Unquote(`"` + body + `"`); err == nil {
			return u
		}
		return body
	}
	return papermill.ParseCLIValue(s)
}
