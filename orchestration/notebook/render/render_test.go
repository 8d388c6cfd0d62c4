package render

import (
	"regexp"
	"strings"
	"testing"

	"github.com/gaffer-sre/gaffer/orchestration/notebook/nbformat"
)

var unsafe = regexp.MustCompile(`(?i)<script|<style|<iframe|<[^>]*\son\w+\s*=|<[^>]*(javascript|vbscript):|<form|<svg`)

func TestSanitizeDropsWhatRuns(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`<p onclick="x()">hi <b>there</b></p>`, `<p>hi <b>there</b></p>`},
		{`<script>alert(1)</script>ok`, `ok`},
		{`<a href="javascript:alert(1)">x</a>`, `<a rel="noopener noreferrer nofollow">x</a>`},
		{`<a href="jav&#x61;script:alert(1)">x</a>`, `<a rel="noopener noreferrer nofollow">x</a>`},
		{`<a href="https://example.com/a?b=1">x</a>`, `<a href="https://example.com/a?b=1" rel="noopener noreferrer nofollow">x</a>`},
		{`<img src="data:image/png;base64,AAAA" onerror="x()">`, `<img src="data:image/png;base64,AAAA">`},
		{`<img src="https://tracker.example/p.gif">`, `<img>`},
		{`<style>body{}</style><table><tr><td colspan="2">1</td></tr></table>`, `<table><tr><td colspan="2">1</td></tr></table>`},
		{`<svg><script>x</script></svg>after`, `after`},
		{`<div style="background:url(x)">s</div>`, `<div>s</div>`},
		{`<span id="papermill-error-cell">e</span>`, `<span id="papermill-error-cell">e</span>`},
		{`1 < 2 & 3`, `1 &lt; 2 &amp; 3`},
	} {
		if got := string(Sanitize(c.in)); got != c.want {
			t.Errorf("Sanitize(%q)\n = %q\nwant %q", c.in, got, c.want)
		}
	}
}

func FuzzSanitize(f *testing.F) {
	for _, s := range []string{`<p onclick="x">a</p>`, `<script>x</script>`, `<a href="javascript:x">`, `<img src=data:image/png;base64,AA>`, `<<script>script>`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := string(Sanitize(s))
		if unsafe.MatchString(out) {
			t.Fatalf("Sanitize(%q) = %q keeps something that runs", s, out)
		}
		if again := string(Sanitize(out)); again != out {
			t.Fatalf("Sanitize is not stable: %q then %q", out, again)
		}
	})
}

func TestMarkdown(t *testing.T) {
	got := string(Markdown("# Title\n\nSome *em* and **strong** with `a<b` and [link](https://x.example).\n\n- one\n- two\n\n```\ncode <x>\n```\n<script>bad()</script>"))
	for _, want := range []string{"<h1>Title</h1>", "<em>em</em>", "<strong>strong</strong>", "<code>a&lt;b</code>",
		`<a href="https://x.example" rel="noopener noreferrer nofollow">link</a>`, "<ul>\n<li>one</li>\n<li>two</li>\n</ul>", "<pre><code>code &lt;x&gt;</code></pre>"} {
		if !strings.Contains(got, want) {
			t.Errorf("markdown lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "<script") {
		t.Errorf("markdown kept a script:\n%s", got)
	}
}

func TestCellsRenderOutputs(t *testing.T) {
	n := 3
	nb := nbformat.New()
	nb.Cells = []*nbformat.Cell{
		{CellType: "markdown", Source: "## Report", Metadata: map[string]any{}},
		{CellType: "code", Source: "plot()", ExecutionCount: &n, Metadata: map[string]any{"papermill": map[string]any{"status": "completed"}},
			Outputs: []*nbformat.Output{
				{OutputType: "stream", Name: "stdout", Text: "\x1b[31mred\x1b[0m <b>\n"},
				{OutputType: "display_data", Data: map[string]any{"image/png": "iVBORw0KGgo=\n", "text/plain": "<Figure>"}},
				{OutputType: "execute_result", Data: map[string]any{"text/html": `<table onmouseover="x()"><tr><td>1</td></tr></table>`}},
				{OutputType: "error", Ename: "ValueError", Evalue: "bad", Traceback: []string{"\x1b[0;31mTraceback\x1b[0m"}},
			}},
	}
	cells := Cells(nb)
	if cells[0].Markdown != "<h2>Report</h2>\n" || cells[1].Prompt != "In [3]:" || cells[1].Status != "completed" {
		t.Fatalf("cells %+v", cells)
	}
	outs := cells[1].Outputs
	if string(outs[0]) != `<pre class="stream stdout">red &lt;b&gt;
</pre>` || !strings.Contains(string(outs[1]), `src="data:image/png;base64,iVBORw0KGgo="`) ||
		string(outs[2]) != `<div class="html-output"><table><tr><td>1</td></tr></table></div>` || !strings.Contains(string(outs[3]), "ValueError: bad\nTraceback") {
		t.Fatalf("outputs %q", outs)
	}
}
