// Package papermill runs a parameterised notebook on a Jupyter kernel with
// papermill's semantics: the values go into a cell tagged
// injected-parameters after the cell tagged parameters, every cell runs in
// order, and the output notebook, written after each cell, carries the
// metadata papermill writes, so tools that read papermill's output
// (scrapbook, papermill's own readers) read Gaffer's.
package papermill

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/gaffer-sre/gaffer/orchestration/notebook/nbformat"
)

// Param is one named parameter value: nil, bool, a number (int64,
// float64 or json.Number), string, []any or map[string]any.
type Param struct {
	Name  string
	Value any
}

// Params are parameters in the order they are injected.
type Params []Param

// ParamsFromMap returns the parameters of m sorted by name.
func ParamsFromMap(m map[string]any) Params {
	p := make(Params, 0, len(m))
	for k, v := range m {
		p = append(p, Param{k, v})
	}
	sort.Slice(p, func(i, j int) bool { return p[i].Name < p[j].Name })
	return p
}

// Map returns the parameters as a map, a later value of a name winning.
func (p Params) Map() map[string]any {
	m := make(map[string]any, len(p))
	for _, x := range p {
		m[x.Name] = x.Value
	}
	return m
}

// Check reports a name that is not a Python identifier or a value that has
// no Python literal.
func (p Params) Check() error {
	for _, x := range p {
		if !isIdentifier(x.Name) {
			return fmt.Errorf("parameter %q: not a Python identifier", x.Name)
		}
		if _, err := PythonLiteral(x.Value); err != nil {
			return fmt.Errorf("parameter %s: %w", x.Name, err)
		}
	}
	return nil
}

func isIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		letter := r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r > 127
		if !letter && !(i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// ParseCLIValue types a command-line value as papermill's -p does: True,
// False and None, then an integer, then a float, else the string itself.
func ParseCLIValue(s string) any {
	switch s {
	case "True":
		return true
	case "False":
		return false
	case "None":
		return nil
	}
	t := strings.TrimSpace(s)
	if i, err := strconv.ParseInt(strings.ReplaceAll(t, "_", ""), 10, 64); err == nil && validUnderscores(t) {
		return i
	}
	if f, ok := pythonFloat(t); ok {
		return f
	}
	return s
}

// validUnderscores reports whether underscores in a numeral sit between
// digits, as Python requires.
func validUnderscores(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '_' && (i == 0 || i == len(s)-1 || !isDigit(s[i-1]) || !isDigit(s[i+1])) {
			return false
		}
	}
	return true
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

// pythonFloat parses what Python's float() accepts: decimals, exponents,
// inf, infinity and nan in any case, with a sign.
func pythonFloat(s string) (float64, bool) {
	body := strings.TrimLeft(s, "+-")
	switch strings.ToLower(body) {
	case "inf", "infinity":
		if strings.HasPrefix(s, "-") {
			return math.Inf(-1), true
		}
		return math.Inf(1), true
	case "nan":
		return math.NaN(), true
	}
	if len(s)-len(body) > 1 || strings.ContainsAny(body, "xXpP") || !validUnderscores(s) {
		return 0, false
	}
	f, err := strconv.ParseFloat(strings.ReplaceAll(s, "_", ""), 64)
	return f, err == nil
}

// Source returns the injected cell's code, as papermill writes it for
// Python: a "# Parameters" comment and one assignment per line.
func (p Params) Source() (string, error) {
	var b strings.Builder
	b.WriteString("# Parameters\n")
	for _, x := range p {
		lit, err := PythonLiteral(x.Value)
		if err != nil {
			return "", fmt.Errorf("parameter %s: %w", x.Name, err)
		}
		b.WriteString(x.Name + " = " + lit + "\n")
	}
	return b.String(), nil
}

// Tags papermill reads and writes.
const (
	TagParameters         = "parameters"
	TagInjectedParameters = "injected-parameters"
	TagErrorMarker        = "papermill-error-cell-tag"
)

// Parameterize inserts the cell of params tagged injected-parameters: in
// place of an existing one, else after the first cell tagged parameters,
// else at the top, in which case it returns a warning to show the user.
func Parameterize(nb *nbformat.Notebook, params Params) (warning string, err error) {
	src, err := params.Source()
	if err != nil {
		return "", err
	}
	cell := &nbformat.Cell{CellType: "code", Source: src, Outputs: []*nbformat.Output{},
		Metadata: map[string]any{"tags": []any{TagInjectedParameters}}}
	if nb.NbformatMinor >= 5 {
		cell.ID = uniqueID(nb, "injected-parameters")
	}
	at, replace := -1, false
	for i, c := range nb.Cells {
		if c.HasTag(TagInjectedParameters) {
			at, replace = i, true
			break
		}
	}
	if at < 0 {
		for i, c := range nb.Cells {
			if c.HasTag(TagParameters) {
				at = i + 1
				break
			}
		}
	}
	switch {
	case replace:
		if nb.Cells[at].ID != "" {
			cell.ID = nb.Cells[at].ID
		}
		nb.Cells[at] = cell
	case at >= 0:
		nb.Cells = append(nb.Cells[:at], append([]*nbformat.Cell{cell}, nb.Cells[at:]...)...)
	default:
		warning = "the notebook has no cell tagged parameters; the parameters were injected at the top"
		nb.Cells = append([]*nbformat.Cell{cell}, nb.Cells...)
	}
	return warning, nil
}

// uniqueID returns base, or base with a number, that no cell uses.
func uniqueID(nb *nbformat.Notebook, base string) string {
	used := map[string]bool{}
	for _, c := range nb.Cells {
		used[c.ID] = true
	}
	id := base
	for n := 2; used[id]; n++ {
		id = fmt.Sprintf("%s-%d", base, n)
	}
	return id
}
