package ui

import (
	"net/url"
	"strings"
	"testing"
)

func TestSafeNext(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "/"},
		{"/", "/"},
		{"/alerts", "/alerts"},
		{"/alerts?state=firing&x=%2F", "/alerts?state=firing&x=%2F"},
		{"/runbooks/r1#step-2", "/runbooks/r1#step-2"},
		{"alerts", "/"},
		{"//evil.example", "/"},
		{"/\\evil.example", "/"},
		{"/\t/evil.example", "/"}, // the finding: next=/%09/evil.example
		{"/\n/evil.example", "/"},
		{"/\r/evil.example", "/"},
		{"/ /evil.example", "/"},
		{"/\u00a0/evil.example", "/"},
		{"/a\\..\\..\\\\evil.example", "/"},
		{"/%2F/evil.example", "/"},
		{"/%09/evil.example", "/"},
		{"/%5Cevil.example", "/"},
		{"/%5C%5Cevil.example", "/"},
		{"/%0d%0aSet-Cookie:x=1", "/"},
		{"/%2f%2fevil.example", "/"},
		{"/\\t/x", "/"}, // a literal backslash
		{"/a/b?next=//evil.example", "/a/b?next=//evil.example"},
		{"/a%2Fb", "/a%2Fb"},
		{"https://evil.example/", "/"},
		{"javascript:alert(1)", "/"},
		{"/\x00", "/"},
		{"/\xff", "/"},
		{"/" + strings.Repeat("a", 3000), "/"},
	} {
		if got := safeNext(tc.in); got != tc.want {
			t.Errorf("safeNext(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzSafeNext checks that whatever next a login is given, the redirect
// stays on this site as a browser would read it: browsers drop tabs and
// newlines, trim spaces and read a backslash as a slash.
func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/", "/alerts?x=1", "//evil", "/\t/evil", "/\\evil", "/%09/evil", "https://evil/", "/a b"} {
		f.Add(s)
	}
	base, _ := url.Parse("https://gaffer.example/login")
	f.Fuzz(func(t *testing.T, next string) {
		got := safeNext(next)
		if got != "/" && got != next {
			t.Fatalf("safeNext(%q) = %q: neither the input nor /", next, got)
		}
		browser := strings.Map(func(r rune) rune {
			switch r {
			case '\t', '\n', '\r':
				return -1
			case '\\':
				return '/'
			}
			return r
		}, strings.TrimSpace(got))
		if strings.HasPrefix(browser, "//") {
			t.Fatalf("safeNext(%q) = %q, which a browser reads as another host", next, got)
		}
		ref, err := url.Parse(browser)
		if err != nil {
			t.Fatalf("safeNext(%q) = %q, which does not parse: %v", next, got, err)
		}
		if u := base.ResolveReference(ref); u.Host != base.Host || u.Scheme != base.Scheme {
			t.Fatalf("safeNext(%q) = %q resolves to %s", next, got, u)
		}
	})
}
