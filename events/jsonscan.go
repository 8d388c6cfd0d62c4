package events

import (
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// A minimal scanner over JSON that is already known to be valid (event
// data is validated at ingest): it finds the members of an object without
// converting the values it skips, which is most of the cost of looking up
// one field.

// jsonField is one member of an object: its key, unescaped, and the raw
// text of its value.
type jsonField struct {
	key string
	raw string
}

// scanObject appends the members of the object in raw to dst.
func scanObject(raw string, dst []jsonField) []jsonField {
	scanContainer(raw, '{', func(i int) int {
		if raw[i] != '"' {
			return i
		}
		end := skipString(raw, i)
		key := unquote(raw[i:end])
		i = skipSpace(raw, end)
		if i >= len(raw) || raw[i] != ':' {
			return i
		}
		i = skipSpace(raw, i+1)
		vend := skipValue(raw, i)
		dst = append(dst, jsonField{key: key, raw: raw[i:vend]})
		return vend
	})
	return dst
}

// scanArray appends the raw elements of the array in raw to dst.
func scanArray(raw string, dst []string) []string {
	scanContainer(raw, '[', func(i int) int {
		end := skipValue(raw, i)
		dst = append(dst, raw[i:end])
		return end
	})
	return dst
}

// scanContainer walks the members of the object or array in raw (open is
// '{' or '['): member is called at the start of each and returns the
// index after it.
func scanContainer(raw string, open byte, member func(i int) int) {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != open {
		return
	}
	i++
	for {
		i = skipSpace(raw, i)
		if i >= len(raw) || raw[i] == '}' || raw[i] == ']' {
			return
		}
		if raw[i] == ',' {
			i++
			continue
		}
		next := member(i)
		if next <= i {
			return
		}
		i = next
	}
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string starting at s[i] == '"'.
func skipString(s string, i int) int {
	for i++; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(s)
}

// skipValue returns the index after the value starting at s[i].
func skipValue(s string, i int) int {
	if i >= len(s) {
		return i
	}
	switch s[i] {
	case '"':
		return skipString(s, i)
	case '{', '[':
		depth := 0
		for i < len(s) {
			switch s[i] {
			case '"':
				i = skipString(s, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return i
	}
	for i < len(s) && !strings.ContainsRune(",}] \t\r\n", rune(s[i])) {
		i++
	}
	return i
}

// unquote returns the text of a JSON string literal, as encoding/json
// decodes it (invalid UTF-8 becomes U+FFFD).
func unquote(lit string) string {
	if len(lit) >= 2 && strings.IndexByte(lit, '\\') < 0 && utf8.ValidString(lit) {
		return lit[1 : len(lit)-1]
	}
	var s string
	if err := json.Unmarshal([]byte(lit), &s); err != nil {
		return ""
	}
	return s
}
