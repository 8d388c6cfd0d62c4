package genie

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// maxArgsText bounds the command line SplitArgs reads, in bytes.
const maxArgsText = 1 << 20

// SplitArgs splits a Genie 3 command line ("commandArgs" or a command's
// "executable" as a string) into arguments, as a POSIX shell splits
// words, without expanding anything: blanks separate arguments, single
// quotes keep everything up to the next single quote, double quotes keep
// everything but a backslash escape of ", \, $ or `, and a backslash
// outside quotes keeps the next character.
func SplitArgs(s string) ([]string, error) {
	if len(s) > maxArgsText {
		return nil, fmt.Errorf("command line: %d bytes, longer than %d", len(s), maxArgsText)
	}
	var out []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return nil, fmt.Errorf("command line: quote ' at byte %d is not closed", i)
			}
			cur.WriteString(s[i+1 : i+1+end])
			i += end + 1
			inWord = true
		case c == '"':
			j := i + 1
			for ; j < len(s) && s[j] != '"'; j++ {
				if s[j] == '\\' && j+1 < len(s) && strings.IndexByte("\"\\$`", s[j+1]) >= 0 {
					j++
				}
				cur.WriteByte(s[j])
			}
			if j >= len(s) {
				return nil, fmt.Errorf("command line: quote \" at byte %d is not closed", i)
			}
			i = j
			inWord = true
		case c == '\\':
			if i+1 >= len(s) {
				return nil, errors.New("command line: ends with a backslash")
			}
			i++
			cur.WriteByte(s[i])
			inWord = true
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out, nil
}

// JoinArgs renders args as one command line that SplitArgs splits back
// into args, quoting only the arguments that need it.
func JoinArgs(args []string) string {
	parts := make([]string, len(args))
	for i, a := range args {
		if a != "" && !strings.ContainsAny(a, " \t\n\r'\"\\$`") {
			parts[i] = a
			continue
		}
		parts[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(parts, " ")
}

// Args are command arguments that read from JSON as a Genie 3 command
// line (a string, split by SplitArgs) or a Genie 4 list, and write as the
// Genie 3 string.
type Args []string

// UnmarshalJSON accepts a string or a list of strings.
func (a *Args) UnmarshalJSON(b []byte) error {
	var list []string
	if err := json.Unmarshal(b, &list); err == nil {
		*a = list
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errors.New("want a command line (string) or a list of arguments")
	}
	list, err := SplitArgs(s)
	if err != nil {
		return err
	}
	*a = list
	return nil
}

// MarshalJSON writes the arguments as one command line.
func (a Args) MarshalJSON() ([]byte, error) { return json.Marshal(JoinArgs(a)) }
