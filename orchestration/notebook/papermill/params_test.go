package papermill

import (
	"encoding/json"
	"math"
	"os/exec"
	"strings"
	"testing"

	"github.com/gaffer-sre/gaffer/orchestration/notebook/nbformat"
)

func TestParseCLIValue(t *testing.T) {
	for _, c := range []struct {
		in   string
		want any
	}{
		{"True", true}, {"False", false}, {"None", nil}, {"12", int64(12)}, {"-3", int64(-3)}, {"1_000", int64(1000)},
		{"0.5", 0.5}, {"1e3", 1000.0}, {"-inf", math.Inf(-1)}, {"hello", "hello"}, {"true", "true"},
		{"1__0", "1__0"}, {"0x10", "0x10"}, {"", ""}, {" 7 ", int64(7)},
	} {
		got := ParseCLIValue(c.in)
		if got != c.want {
			t.Errorf("ParseCLIValue(%q) = %#v, want %#v", c.in, got, c.want)
		}
	}
	if f, ok := ParseCLIValue("nan").(float64); !ok || !math.IsNaN(f) {
		t.Errorf("ParseCLIValue(nan) = %v", f)
	}
}

// TestPythonLiteralMatchesPython has Python evaluate every literal and
// compares the value it reads, and a float's repr, with what was meant.
func TestPythonLiteralMatchesPython(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed")
	}
	values := []any{nil, true, false, int64(0), int64(-42), 0.1, 1.0, -2.5, 1e16, 1e15, 1.5e-5, 0.0001, 123456789.125, 1e300, 5e-324,
		"plain", `quote " and ' and \ back`, "tab\tnew\nline\r", "é ü", "日本", "🙂", "\x00\x7f",
		[]any{int64(1), "two", []any{3.5}}, map[string]any{"a": int64(1), "b c": []any{nil, true}},
		json.Number("12345678901234567890"), json.Number("2.50")}
	var lits []string
	for _, v := range values {
		s, err := PythonLiteral(v)
		if err != nil {
			t.Fatalf("PythonLiteral(%#v): %v", v, err)
		}
		lits = append(lits, s)
	}
	script := `import json, sys
for line in sys.stdin:
    v = eval(line)
    print(json.dumps([v, repr(v) if isinstance(v, float) else None]))
`
	cmd := exec.Command(py, "-c", script)
	cmd.Stdin = strings.NewReader(strings.Join(lits, "\n") + "\n")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	for i, v := range values {
		var got [2]any
		d := json.NewDecoder(strings.NewReader(lines[i]))
		d.UseNumber()
		if err := d.Decode(&got); err != nil {
			t.Fatalf("line %d %q: %v", i, lines[i], err)
		}
		if f, ok := v.(float64); ok {
			n, _ := got[0].(json.Number)
			if g, err := n.Float64(); err != nil || g != f {
				t.Errorf("literal %s read by Python as %v, want %v", lits[i], got[0], f)
			}
			if got[1] != lits[i] {
				t.Errorf("float %v: we wrote %s, Python's repr is %v", f, lits[i], got[1])
			}
			continue
		}
		want, _ := json.Marshal(v)
		gotJSON, _ := json.Marshal(got[0])
		if n, ok := v.(json.Number); ok && n == "2.50" {
			want = []byte("2.5")
		}
		if string(gotJSON) != string(want) {
			t.Errorf("literal %s read by Python as %s, want %s", lits[i], gotJSON, want)
		}
	}
}

func TestPythonLiteralSpecialFloats(t *testing.T) {
	for v, want := range map[float64]string{math.NaN(): "float('nan')", math.Inf(1): "float('inf')", math.Inf(-1): "float('-inf')"} {
		if got, _ := PythonLiteral(v); got != want {
			t.Errorf("PythonLiteral(%v) = %s, want %s", v, got, want)
		}
	}
	if _, err := PythonLiteral(struct{}{}); err == nil {
		t.Error("a struct was given a literal")
	}
}

func code(src string, tags ...string) *nbformat.Cell {
	meta := map[string]any{}
	if len(tags) > 0 {
		var ts []any
		for _, t := range tags {
			ts = append(ts, t)
		}
		meta["tags"] = ts
	}
	return &nbformat.Cell{CellType: "code", Source: src, Metadata: meta, Outputs: []*nbformat.Output{}}
}

func notebook(cells ...*nbformat.Cell) *nbformat.Notebook {
	nb := nbformat.New()
	for i, c := range cells {
		c.ID = "c" + string(rune('a'+i))
	}
	nb.Cells = cells
	return nb
}

func TestParameterize(t *testing.T) {
	p := Params{{"alpha", 0.6}, {"name", "x"}}
	nb := notebook(code("a = 1"), code("alpha = 0.1", "parameters"), code("print(alpha)"))
	if w, err := Parameterize(nb, p); err != nil || w != "" {
		t.Fatalf("%q %v", w, err)
	}
	if len(nb.Cells) != 4 || !nb.Cells[2].HasTag(TagInjectedParameters) || nb.Cells[2].Source != "# Parameters\nalpha = 0.6\nname = \"x\"\n" {
		t.Fatalf("cells: %+v", nb.Cells[2])
	}
	// Parameterising again replaces the injected cell.
	if _, err := Parameterize(nb, Params{{"alpha", int64(2)}}); err != nil {
		t.Fatal(err)
	}
	if len(nb.Cells) != 4 || !strings.Contains(nb.Cells[2].Source, "alpha = 2\n") {
		t.Fatalf("second injection: %d cells, %q", len(nb.Cells), nb.Cells[2].Source)
	}
	bare := notebook(code("print(1)"))
	w, err := Parameterize(bare, p)
	if err != nil || w == "" || !bare.Cells[0].HasTag(TagInjectedParameters) {
		t.Fatalf("no parameters cell: warning %q, err %v, first cell %+v", w, err, bare.Cells[0])
	}
	if err := (Params{{"not valid", 1}}).Check(); err == nil || !strings.Contains(err.Error(), "not valid") {
		t.Fatalf("Check: %v", err)
	}
}
