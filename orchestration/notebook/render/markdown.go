package render

import (
	"fmt"
	"html"
	"html/template"
	"regexp"
	"strings"
)

// Markdown renders the common part of a markdown cell — ATX headings,
// fenced and indented code, bullet and numbered lists, block quotes,
// paragraphs, inline code, emphasis, links and images — and sanitises
// the result, raw HTML in the cell included.
func Markdown(src string) template.HTML {
	var b strings.Builder
	lines := strings.Split(strings.ReplaceAll(src, "\r\n", "\n"), "\n")
	var para []string
	list := ""
	flush := func() {
		if len(para) > 0 {
			b.WriteString("<p>" + inline(strings.Join(para, " ")) + "</p>\n")
			para = nil
		}
	}
	closeList := func() {
		if list != "" {
			b.WriteString("</" + list + ">\n")
			list = ""
		}
	}
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~"):
			flush()
			closeList()
			fence := trimmed[:3]
			var code []string
			for i++; i < len(lines) && !strings.HasPrefix(strings.TrimSpace(lines[i]), fence); i++ {
				code = append(code, lines[i])
			}
			b.WriteString("<pre><code>" + html.EscapeString(strings.Join(code, "\n")) + "</code></pre>\n")
		case trimmed == "":
			flush()
			closeList()
		case heading.MatchString(trimmed):
			flush()
			closeList()
			m := heading.FindStringSubmatch(trimmed)
			n := string(rune('0' + len(m[1])))
			b.WriteString("<h" + n + ">" + inline(m[2]) + "</h" + n + ">\n")
		case bullet.MatchString(line) || numbered.MatchString(line):
			flush()
			kind := "ul"
			m := bullet.FindStringSubmatch(line)
			if m == nil {
				kind, m = "ol", numbered.FindStringSubmatch(line)
			}
			if list != kind {
				closeList()
				b.WriteString("<" + kind + ">\n")
				list = kind
			}
			b.WriteString("<li>" + inline(m[1]) + "</li>\n")
		case strings.HasPrefix(trimmed, ">"):
			flush()
			closeList()
			b.WriteString("<blockquote>" + inline(strings.TrimSpace(strings.TrimPrefix(trimmed, ">"))) + "</blockquote>\n")
		case strings.HasPrefix(line, "    ") && len(para) == 0:
			closeList()
			var code []string
			for ; i < len(lines) && (strings.HasPrefix(lines[i], "    ") || strings.TrimSpace(lines[i]) == ""); i++ {
				code = append(code, strings.TrimPrefix(lines[i], "    "))
			}
			i--
			b.WriteString("<pre><code>" + html.EscapeString(strings.TrimRight(strings.Join(code, "\n"), "\n")) + "</code></pre>\n")
		default:
			closeList()
			para = append(para, trimmed)
		}
	}
	flush()
	closeList()
	return Sanitize(b.String())
}

var (
	heading  = regexp.MustCompile(`^(#{1,6})\s+(.*?)\s*#*$`)
	bullet   = regexp.MustCompile(`^\s*[-*+]\s+(.*)$`)
	numbered = regexp.MustCompile(`^\s*\d+[.)]\s+(.*)$`)
	code     = regexp.MustCompile("`([^`]+)`")
	image    = regexp.MustCompile(`!\[([^\]]*)\]\(([^)\s]+)\)`)
	link     = regexp.MustCompile(`\[([^\]]+)\]\(([^)\s]+)\)`)
	strong   = regexp.MustCompile(`\*\*([^*]+)\*\*|__([^_]+)__`)
	emph     = regexp.MustCompile(`\*([^*]+)\*`)
)

// inline renders inline markdown. Raw HTML is left for Sanitize; text
// that is not markup stays as written (the sanitiser escapes what it
// does not keep).
func inline(s string) string {
	var spans []string
	s = code.ReplaceAllStringFunc(s, func(m string) string {
		spans = append(spans, "<code>"+html.EscapeString(m[1:len(m)-1])+"</code>")
		return fmt.Sprintf("\x00%d\x00", len(spans)-1)
	})
	s = image.ReplaceAllString(s, `<img alt="$1" src="$2">`)
	s = link.ReplaceAllString(s, `<a href="$2">$1</a>`)
	s = strong.ReplaceAllString(s, `<strong>$1$2</strong>`)
	s = emph.ReplaceAllString(s, `<em>$1</em>`)
	for i, sp := range spans {
		s = strings.Replace(s, fmt.Sprintf("\x00%d\x00", i), sp, 1)
	}
	return s
}
