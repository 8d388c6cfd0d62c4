package main

import (
	"bufio"
	"fmt"
	"strings"
	"testing"
)

// docsSkipMarker, on the line just before a shell block's fence, keeps the
// docs test from running the block; the rest of the line must say why.
const docsSkipMarker = "<!-- docs-test: skip:"

// shellBlock is one fenced ```sh block of a Markdown page.
type shellBlock struct {
	Line       int    // line of the opening fence, from 1
	Text       string // the commands, without the fences
	SkipReason string // non-empty when the block is marked not to run
}

// parseShellBlocks returns the ```sh, ```bash and ```shell blocks of a
// Markdown page in order. A marker line with no reason, or a block that
// is never closed, is an error naming its line.
func parseShellBlocks(md string) ([]shellBlock, error) {
	var blocks []shellBlock
	var cur *shellBlock
	var body strings.Builder
	var fence, prev string
	sc := bufio.NewScanner(strings.NewReader(md))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case cur != nil && trimmed == fence:
			cur.Text = body.String()
			blocks = append(blocks, *cur)
			cur, fence = nil, ""
		case cur != nil:
			body.WriteString(line + "\n")
		case fence != "" && trimmed == fence:
			fence = "" // the end of a block of another language
		case fence != "":
		case strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~"):
			mark := trimmed[:3]
			lang := strings.TrimSpace(strings.TrimLeft(trimmed, mark[:1]))
			fence = strings.Repeat(mark[:1], len(trimmed)-len(strings.TrimLeft(trimmed, mark[:1])))
			switch strings.Fields(lang + " x")[0] {
			case "sh", "bash", "shell":
				cur = &shellBlock{Line: n}
				body.Reset()
				if strings.HasPrefix(strings.TrimSpace(prev), docsSkipMarker) {
					reason := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(prev), docsSkipMarker))
					reason = strings.TrimSpace(strings.TrimSuffix(reason, "-->"))
					if reason == "" {
						return nil, fmt.Errorf("line %d: %s marker without a reason", n-1, docsSkipMarker)
					}
					cur.SkipReason = reason
				}
			}
		}
		prev = line
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if cur != nil {
		return nil, fmt.Errorf("line %d: shell block never closed", cur.Line)
	}
	return blocks, nil
}

// gafferInvocations returns the argument lists of the `gaffer ...`
// commands in a shell block (after `gaffer`, `./gaffer` or
// `go run ./cmd/gaffer`), so that even a block the test does not run is
// checked against the command tree. It understands comments, line
// continuations, quotes, pipes, `&&`, `;`, `&` and a leading VAR=value;
// a command holding `$(`, a here-document body or a backquote is left out.
func gafferInvocations(script string) [][]string {
	script = strings.ReplaceAll(script, "\\\n", " ")
	var out [][]string
	inHeredoc := ""
	for _, line := range strings.Split(script, "\n") {
		if inHeredoc != "" {
			if strings.TrimSpace(line) == inHeredoc {
				inHeredoc = ""
			}
			continue
		}
		if i := strings.Index(line, "<<"); i >= 0 {
			tag := strings.Trim(strings.Fields(line[i+2:] + " x")[0], `'"-`)
			inHeredoc = tag
		}
		for _, cmd := range splitCommands(line) {
			words, ok := shellWords(cmd)
			if !ok {
				continue
			}
			for len(words) > 0 && strings.Contains(words[0], "=") && !strings.HasPrefix(words[0], "-") {
				words = words[1:]
			}
			switch {
			case len(words) > 0 && (words[0] == "gaffer" || words[0] == "./gaffer"):
				out = append(out, words[1:])
			case len(words) > 2 && words[0] == "go" && words[1] == "run" && words[2] == "./cmd/gaffer":
				out = append(out, words[3:])
			}
		}
	}
	return out
}

// splitCommands cuts a line at unquoted ;, &, && and | and drops an
// unquoted # comment.
func splitCommands(line string) []string {
	var cmds []string
	var cur strings.Builder
	var quote rune
	for _, r := range line {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			}
			cur.WriteRune(r)
		case r == '\'' || r == '"':
			quote = r
			cur.WriteRune(r)
		case r == '#' && (cur.Len() == 0 || strings.HasSuffix(cur.String(), " ")):
			return append(cmds, cur.String())
		case r == ';' || r == '&' || r == '|':
			cmds = append(cmds, cur.String())
			cur.Reset()
		default:
			cur.WriteRune(r)
		}
	}
	return append(cmds, cur.String())
}

// shellWords splits a simple command into words, removing quotes. It
// reports false for what it does not model: substitutions and
// redirections' targets are kept as words, but `$(` and backquotes are
// refused.
func shellWords(cmd string) ([]string, bool) {
	if strings.Contains(cmd, "$(") || strings.Contains(cmd, "`") {
		return nil, false
	}
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	for _, r := range cmd {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, false
	}
	if inWord {
		words = append(words, cur.String())
	}
	// Redirections end the arguments.
	for i, w := range words {
		if strings.HasPrefix(w, ">") || strings.HasPrefix(w, "<") || strings.HasPrefix(w, "2>") {
			return words[:i], true
		}
	}
	return words, true
}

func TestParseShellBlocks(t *testing.T) {
	md := "text\n```go\nx := 1\n```\n<!-- docs-test: skip: needs sudo -->\n```sh\nsudo ls\n```\n" +
		"````sh\ngaffer token list\n```\nstill inside\n````\n```bash\ngaffer version # comment\n```\n"
	blocks, err := parseShellBlocks(md)
	if err != nil {
		t.Fatal(err)
	}
	if len(blocks) != 3 {
		t.Fatalf("got %d blocks: %+v", len(blocks), blocks)
	}
	if blocks[0].SkipReason != "needs sudo" || blocks[0].Text != "sudo ls\n" || blocks[0].Line != 6 {
		t.Errorf("block 0 = %+v", blocks[0])
	}
	if blocks[1].SkipReason != "" || !strings.Contains(blocks[1].Text, "still inside") {
		t.Errorf("block 1 = %+v", blocks[1])
	}
	for _, bad := range []string{"```sh\nls\n", "<!-- docs-test: skip: -->\n```sh\nls\n```\n"} {
		if _, err := parseShellBlocks(bad); err == nil {
			t.Errorf("parseShellBlocks(%q) accepted", bad)
		}
	}
}

func TestGafferInvocations(t *testing.T) {
	script := "go run ./cmd/gaffer serve --demo &   # UI\n" +
		"GAFFER_TOKEN=x ./gaffer token create ci --scopes 'events:read' && gaffer token list | head\n" +
		"cat > f <<'EOF'\ngaffer not-a-command\nEOF\n" +
		"gaffer agent --server URL \\\n    --tags a=b >log 2>&1\n" +
		"TOK=$(gaffer token create x)\n"
	got := fmt.Sprint(gafferInvocations(script))
	want := "[[serve --demo] [token create ci --scopes events:read] [token list] [agent --server URL --tags a=b]]"
	if got != want {
		t.Errorf("gafferInvocations = %s, want %s", got, want)
	}
}

func FuzzParseShellBlocks(f *testing.F) {
	f.Add("```sh\ngaffer version\n```\n")
	f.Add("<!-- docs-test: skip: x -->\n```bash\nls | gaffer 'a b' \"c\" && d; e &\n```\n")
	f.Add("````\n```sh\n````\n")
	f.Fuzz(func(t *testing.T, md string) {
		blocks, err := parseShellBlocks(md)
		if err != nil {
			return
		}
		for _, b := range blocks {
			if b.Line < 1 {
				t.Fatalf("block at line %d", b.Line)
			}
			for _, args := range gafferInvocations(b.Text) {
				for _, a := range args {
					if strings.ContainsAny(a, "\n") {
						t.Fatalf("argument %q spans lines", a)
					}
				}
			}
		}
	})
}
