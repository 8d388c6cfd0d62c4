package sel

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// tokKind classifies a token of SEL source.
type tokKind int

const (
	tEOF tokKind = iota
	tIdent
	tInt
	tFloat
	tString
	tPunct // operators and punctuation; the text says which
)

// token is one lexeme of SEL source and where it starts.
type token struct {
	kind tokKind
	text string // for tString, the decoded value
	pos  Pos
}

// Pos is a position in SEL source: line and column count from 1, the
// column in characters.
type Pos struct{ Line, Col int }

// puncts lists the operators and punctuation SEL shares with Java, longest
// first so that the lexer takes the longest match.
var puncts = []string{
	">>>=", "<<=", ">>=", ">>>",
	"==", "!=", "<=", ">=", "&&", "||", "++", "--", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "<<", ">>",
	"(", ")", "{", "}", "[", "]", ";", ",", ".", "?", ":", "=", "<", ">", "!", "~", "+", "-", "*", "/", "%", "&", "|", "^", "@",
}

// lex splits src into tokens, ending with a tEOF token.
func lex(src string) ([]token, error) {
	var toks []token
	line, col := 1, 1
	i := 0
	advance := func(n int) {
		for _, r := range src[i : i+n] {
			if r == '\n' {
				line, col = line+1, 1
			} else {
				col++
			}
		}
		i += n
	}
	for i < len(src) {
		r, size := utf8.DecodeRuneInString(src[i:])
		p := Pos{line, col}
		switch {
		case r == utf8.RuneError && size == 1:
			return nil, errAt(p, "invalid UTF-8")
		case unicode.IsSpace(r):
			advance(size)
		case strings.HasPrefix(src[i:], "//"):
			n := strings.IndexByte(src[i:], '\n')
			if n < 0 {
				n = len(src) - i
			}
			advance(n)
		case strings.HasPrefix(src[i:], "/*"):
			n := strings.Index(src[i+2:], "*/")
			if n < 0 {
				return nil, errAt(p, "comment is not closed")
			}
			advance(n + 4)
		case r == '_' || r == '$' || unicode.IsLetter(r):
			n := 0
			for n < len(src)-i {
				r, s := utf8.DecodeRuneInString(src[i+n:])
				if r != '_' && r != '$' && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
					break
				}
				n += s
			}
			toks = append(toks, token{kind: tIdent, text: src[i : i+n], pos: p})
			advance(n)
		case r >= '0' && r <= '9' || r == '.' && i+1 < len(src) && src[i+1] >= '0' && src[i+1] <= '9':
			t, n, err := lexNumber(src[i:], p)
			if err != nil {
				return nil, err
			}
			toks = append(toks, t)
			advance(n)
		case r == '"' || r == '\'':
			s, n, err := lexString(src[i:], p)
			if err != nil {
				return nil, err
			}
			toks = append(toks, token{kind: tString, text: s, pos: p})
			advance(n)
		default:
			matched := false
			for _, op := range puncts {
				if strings.HasPrefix(src[i:], op) {
					toks = append(toks, token{kind: tPunct, text: op, pos: p})
					advance(len(op))
					matched = true
					break
				}
			}
			if !matched {
				return nil, errAt(p, "unexpected character %q", r)
			}
		}
	}
	return append(toks, token{kind: tEOF, pos: Pos{line, col}}), nil
}

// lexNumber reads a Java integer or floating-point literal at the start
// of s. The text of the token is the literal without its type suffix.
func lexNumber(s string, p Pos) (token, int, error) {
	n := 0
	digits := func() {
		for n < len(s) && (s[n] >= '0' && s[n] <= '9' || s[n] == '_') {
			n++
		}
	}
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
		return token{}, 0, errAt(p, "hexadecimal literals are not supported")
	}
	digits()
	float := false
	if n < len(s) && s[n] == '.' && n+1 < len(s) && s[n+1] >= '0' && s[n+1] <= '9' {
		float = true
		n++
		digits()
	} else if n < len(s) && s[n] == '.' && (n+1 == len(s) || !isIdentStart(s[n+1])) {
		// "1." is a double in Java; "1.foo" is not a number.
		float = true
		n++
	}
	if n < len(s) && (s[n] == 'e' || s[n] == 'E') {
		m := n + 1
		if m < len(s) && (s[m] == '+' || s[m] == '-') {
			m++
		}
		if m < len(s) && s[m] >= '0' && s[m] <= '9' {
			float = true
			n = m
			digits()
		}
	}
	text := strings.ReplaceAll(s[:n], "_", "")
	if n < len(s) {
		switch s[n] {
		case 'l', 'L':
			if float {
				return token{}, 0, errAt(p, "bad number %q", s[:n+1])
			}
			n++
		case 'f', 'F', 'd', 'D':
			float = true
			n++
		}
	}
	if n < len(s) && isIdentStart(s[n]) {
		return token{}, 0, errAt(p, "bad number %q", s[:n+1])
	}
	if float {
		return token{kind: tFloat, text: text, pos: p}, n, nil
	}
	return token{kind: tInt, text: text, pos: p}, n, nil
}

func isIdentStart(c byte) bool {
	return c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// lexString reads a quoted string at the start of s with the escapes SEL
// accepts (\b \n \t \f \r \\ \" \' and Java's \uXXXX) and returns
// its value and its length in bytes.
func lexString(s string, p Pos) (string, int, error) {
	quote := s[0]
	var b strings.Builder
	for i := 1; i < len(s); {
		c := s[i]
		switch {
		case c == quote:
			return b.String(), i + 1, nil
		case c == '\n':
			return "", 0, errAt(p, "string is not closed on its line")
		case c == '\\':
			if i+1 >= len(s) {
				return "", 0, errAt(p, "string is not closed")
			}
			e := s[i+1]
			i += 2
			switch e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case '\\', '\'', '"':
				b.WriteByte(e)
			case 'u':
				if i+4 > len(s) {
					return "", 0, errAt(p, "bad \\u escape")
				}
				var r rune
				for _, h := range s[i : i+4] {
					v := strings.IndexRune("0123456789abcdef", unicode.ToLower(h))
					if v < 0 {
						return "", 0, errAt(p, "bad \\u escape")
					}
					r = r*16 + rune(v)
				}
				b.WriteRune(r)
				i += 4
			default:
				return "", 0, errAt(p, "unknown escape \\%c", e)
			}
		default:
			b.WriteByte(c)
			i++
		}
	}
	return "", 0, errAt(p, "string is not closed")
}
