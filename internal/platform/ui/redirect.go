package ui

import (
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// safeNext returns next when it is a path on this site, and "/" otherwise,
// so that the redirect after a login cannot send the browser elsewhere.
// A path on this site starts with a single '/', contains no backslash
// (browsers read "/\host" as "//host"), no control character and no
// white space anywhere (browsers drop tabs and newlines, so "/\t/host"
// becomes "//host"), and parses with neither scheme nor host.
func safeNext(next string) string {
	if !isLocalPath(next) {
		return "/"
	}
	return next
}

func isLocalPath(p string) bool {
	if len(p) < 1 || len(p) > 2048 || p[0] != '/' {
		return false
	}
	if len(p) > 1 && (p[1] == '/' || p[1] == '\\') {
		return false
	}
	if !plainText(p) {
		return false
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return false
	}
	// The decoded path must pass too, for any handler that unescapes it
	// and redirects again.
	return strings.HasPrefix(u.Path, "/") && !strings.HasPrefix(u.Path, "//") && plainText(u.Path)
}

// plainText reports whether s has no backslash, control character, white
// space or invalid UTF-8.
func plainText(s string) bool {
	for _, r := range s {
		if r == '\\' || r == utf8.RuneError || unicode.IsControl(r) || unicode.IsSpace(r) {
			return false
		}
	}
	return true
}
