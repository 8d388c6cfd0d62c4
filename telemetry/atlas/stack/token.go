package stack

import (
	"strings"
	"unicode"
)

// Token is one comma-separated item of a program, with its byte offset.
type Token struct {
	Text string
	Pos  int
	val  any // a value pushed as is, when a list built by words is called
}

// Tokenize splits a program on commas, trims white space, drops empty
// items and /* nested */ comments, and records where each token starts.
func Tokenize(program string) ([]Token, error) {
	var toks []Token
	var cur strings.Builder
	start := -1
	flush := func() {
		text := strings.TrimRightFunc(cur.String(), unicode.IsSpace)
		if text != "" {
			toks = append(toks, Token{Text: text, Pos: start})
		}
		cur.Reset()
		start = -1
	}
	depth := 0
	for i := 0; i < len(program); i++ {
		c := program[i]
		switch {
		case c == '/' && i+1 < len(program) && program[i+1] == '*':
			depth++
			i++
		case c == '*' && i+1 < len(program) && program[i+1] == '/':
			if depth == 0 {
				return nil, &Error{Pos: i, Msg: "unmatched end of comment '*/'"}
			}
			depth--
			i++
		case depth > 0:
		case c == ',':
			flush()
		default:
			if start < 0 {
				if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
					continue
				}
				start = i
			}
			cur.WriteByte(c)
		}
	}
	if depth > 0 {
		return nil, &Error{Pos: len(program), Msg: "unclosed comment '/*'"}
	}
	flush()
	return toks, nil
}
