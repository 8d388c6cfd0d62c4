// Package render turns a notebook into read-only HTML: markdown cells,
// code with its execution counts, and outputs (text, HTML, images, errors)
// — with every piece of HTML from the notebook passed through an
// allow-list sanitiser, so a published notebook cannot run script in the
// reader's browser.
package render

import (
	"html/template"
	"net/url"
	"regexp"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// allowedTags are the elements kept; others are dropped with their tags
// but keep their text, except dropContent's, dropped whole.
var allowedTags = map[atom.Atom]bool{
	atom.P: true, atom.Div: true, atom.Span: true, atom.B: true, atom.I: true, atom.Em: true, atom.Strong: true, atom.U: true,
	atom.Code: true, atom.Pre: true, atom.Table: true, atom.Thead: true, atom.Tbody: true, atom.Tfoot: true, atom.Tr: true,
	atom.Th: true, atom.Td: true, atom.Caption: true, atom.Ul: true, atom.Ol: true, atom.Li: true, atom.Dl: true, atom.Dt: true, atom.Dd: true,
	atom.H1: true, atom.H2: true, atom.H3: true, atom.H4: true, atom.H5: true, atom.H6: true, atom.A: true, atom.Img: true,
	atom.Br: true, atom.Hr: true, atom.Blockquote: true, atom.Sub: true, atom.Sup: true, atom.Small: true, atom.Del: true, atom.S: true,
	atom.Kbd: true, atom.Abbr: true,
}

var dropContent = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Iframe: true, atom.Object: true, atom.Embed: true, atom.Noscript: true,
	atom.Template: true, atom.Svg: true, atom.Math: true, atom.Form: true, atom.Textarea: true, atom.Select: true, atom.Title: true,
}

var allowedAttrs = map[string]bool{"href": true, "src": true, "alt": true, "title": true, "colspan": true, "rowspan": true, "id": true, "class": true, "align": true}

var safeToken = regexp.MustCompile(`^[A-Za-z0-9 _:.-]{1,100}$`)

var dataImage = regexp.MustCompile(`^data:image/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]+$`)

// Sanitize returns s with only allow-listed elements and attributes:
// links to http(s), mailto, fragments and relative paths; images from
// data: URIs of raster types; no script, style, event handler or form.
func Sanitize(s string) template.HTML {
	var b strings.Builder
	z := html.NewTokenizer(strings.NewReader(s))
	skip := 0 // depth inside an element whose content is dropped
	var skipTag atom.Atom
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return template.HTML(b.String())
		case html.TextToken:
			if skip == 0 {
				b.WriteString(html.EscapeString(string(z.Text())))
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			if skip > 0 {
				if tok.DataAtom == skipTag && tt == html.StartTagToken {
					skip++
				}
				continue
			}
			if dropContent[tok.DataAtom] {
				if tt == html.StartTagToken {
					skip, skipTag = 1, tok.DataAtom
				}
				continue
			}
			if !allowedTags[tok.DataAtom] {
				continue
			}
			b.WriteString("<" + tok.DataAtom.String())
			for _, a := range tok.Attr {
				if v, ok := cleanAttr(tok.DataAtom, strings.ToLower(a.Key), a.Val); ok {
					b.WriteString(" " + strings.ToLower(a.Key) + `="` + html.EscapeString(v) + `"`)
				}
			}
			if tok.DataAtom == atom.A {
				b.WriteString(` rel="noopener noreferrer nofollow"`)
			}
			b.WriteString(">")
		case html.EndTagToken:
			tok := z.Token()
			if skip > 0 {
				if tok.DataAtom == skipTag {
					skip--
				}
				continue
			}
			if allowedTags[tok.DataAtom] && tok.DataAtom != atom.Br && tok.DataAtom != atom.Img && tok.DataAtom != atom.Hr {
				b.WriteString("</" + tok.DataAtom.String() + ">")
			}
		}
	}
}

func cleanAttr(tag atom.Atom, key, val string) (string, bool) {
	if !allowedAttrs[key] {
		return "", false
	}
	val = strings.TrimSpace(val)
	switch key {
	case "href":
		return val, tag == atom.A && safeLink(val)
	case "src":
		return val, tag == atom.Img && dataImage.MatchString(val)
	case "id", "class", "align", "colspan", "rowspan":
		return val, safeToken.MatchString(val)
	}
	return val, true
}

func safeLink(v string) bool {
	if strings.HasPrefix(v, "#") {
		return true
	}
	u, err := url.Parse(v)
	if err != nil {
		return false
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https", "mailto":
		return true
	case "":
		return !strings.Contains(v, ":") || strings.Index(v, ":") > strings.IndexAny(v, "/?#")
	}
	return false
}
