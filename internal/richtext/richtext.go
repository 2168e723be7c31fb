// Package richtext turns content written by customers into HTML that is safe
// to show to agents, and into plain text for previews, search and SMS.
//
// Why it exists: every message a customer sends — an email body, a chat line,
// an SMS — is hostile until proven otherwise. The desk runs in the agent's
// browser with the agent's session, so one script, event handler or
// javascript: link smuggled into a message would act with that agent's
// rights. Remote images are not harmless either: they are tracking pixels
// that tell the sender when, and from which IP address, an agent opened the
// message. Therefore:
//
//   - HTML sanitizes email HTML against a small allow-list with bluemonday,
//     then runs a second, independent pass of its own that re-checks every tag
//     and attribute, gives every link rel="noopener noreferrer nofollow" and
//     target="_blank", and replaces remote images with "[image: alt]".
//   - Text escapes all of its input, so markup never comes from a customer; the
//     only markup it writes is <br> and links for http(s) URLs.
//   - PlainFromHTML and Preview produce plain text, never HTML.
//
// HTML and Text return template.HTML so that html/template does not escape
// their output again. Do not edit that output before rendering it.
package richtext

import (
	"html/template"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/microcosm-cc/bluemonday"
	"golang.org/x/net/html"
)

// linkRel and linkTarget go on every link we emit: the page a link opens
// gets no handle on the desk (noopener), no Referer leaking the desk URL
// (noreferrer), and search engines get no endorsement (nofollow).
const (
	linkRel    = "noopener noreferrer nofollow"
	linkTarget = "_blank"
)

// allowedElements is the complete set of elements HTML may emit. Everything
// else is dropped; its text is kept unless listed in skipContent.
var allowedElements = setOf(
	"a", "img",
	"p", "br", "div", "span", "hr", "center",
	"h1", "h2", "h3", "h4", "h5", "h6",
	"b", "i", "u", "s", "strike", "strong", "em", "small", "sub", "sup",
	"mark", "del", "ins", "q", "cite", "abbr", "tt", "kbd", "samp", "code",
	"pre", "blockquote",
	"ul", "ol", "li", "dl", "dt", "dd",
	"table", "caption", "colgroup", "col", "thead", "tbody", "tfoot", "tr",
	"th", "td",
)

// allowedAttrs is every attribute name HTML may emit, on any element; the
// policy decides which element may carry which. No id, class or name: those
// would let a message clobber the desk's DOM or borrow its CSS.
var allowedAttrs = setOf(
	"href", "src", "alt", "title", "width", "height", "align", "valign",
	"colspan", "rowspan", "span", "border", "cellpadding", "cellspacing",
	"bgcolor", "start", "type", "value", "dir", "style",
)

// voidElements have no end tag.
var voidElements = setOf("br", "hr", "img", "col")

// skipContent are elements whose content is dropped with them (bluemonday
// already drops script, style, title, iframe, object, noscript, ...).
var skipContent = []string{"svg", "math", "template", "applet"}

// styleRules allow-lists CSS properties and their values. Values are plain
// keywords, numbers and colour functions: no url(), no expression(), no
// escapes, no quotes. Layout properties (position, display, size, margin)
// are not allowed, so a message cannot overlay or hide parts of the desk.
var (
	colorValue = regexp.MustCompile(`(?i)^(#[0-9a-f]{3,8}|[a-z]{3,20}|(rgba?|hsla?)\([0-9.,%\s/deg]{1,40}\))$`)
	styleRules = map[string]*regexp.Regexp{
		"color":            colorValue,
		"background-color": colorValue,
		"font-weight":      regexp.MustCompile(`(?i)^(normal|bold|bolder|lighter|[1-9]00)$`),
		"font-style":       regexp.MustCompile(`(?i)^(normal|italic|oblique)$`),
		"text-decoration":  regexp.MustCompile(`(?i)^(none|underline|overline|line-through)(\s+(underline|overline|line-through))*$`),
		"text-align":       regexp.MustCompile(`(?i)^(left|right|center|justify|start|end)$`),
	}
	noBackslash    = regexp.MustCompile(`^[^\\]*$`)
	bgcolorValue   = regexp.MustCompile(`(?i)^(#[0-9a-f]{3,8}|[a-z]{3,20})$`)
	dataImageValue = regexp.MustCompile(`^image/(png|gif|jpeg|webp);base64,[A-Za-z0-9+/]*={0,2}$`)
)

// policy is built once; bluemonday policies are safe for concurrent use.
var policy = newPolicy()

func newPolicy() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	var plain []string
	for el := range allowedElements {
		if el != "a" && el != "img" { // a and img are useless without attributes
			plain = append(plain, el)
		}
	}
	p.AllowElements(plain...)

	p.AllowAttrs("href", "title").OnElements("a")
	p.AllowAttrs("src", "alt", "title").OnElements("img")
	p.AllowAttrs("title").OnElements("abbr")
	p.AllowAttrs("width", "height").Matching(bluemonday.NumberOrPercent).
		OnElements("img", "table", "td", "th", "col", "colgroup")
	p.AllowAttrs("align").Matching(bluemonday.CellAlign).
		OnElements("p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "table",
			"thead", "tbody", "tfoot", "tr", "td", "th", "col", "colgroup")
	p.AllowAttrs("valign").Matching(bluemonday.CellVerticalAlign).
		OnElements("thead", "tbody", "tfoot", "tr", "td", "th", "col", "colgroup")
	p.AllowAttrs("colspan", "rowspan").Matching(bluemonday.Integer).OnElements("td", "th")
	p.AllowAttrs("span").Matching(bluemonday.Integer).OnElements("col", "colgroup")
	p.AllowAttrs("border", "cellpadding", "cellspacing").Matching(bluemonday.Integer).OnElements("table")
	p.AllowAttrs("bgcolor").Matching(bgcolorValue).OnElements("table", "tr", "td", "th")
	p.AllowAttrs("start").Matching(bluemonday.Integer).OnElements("ol")
	p.AllowAttrs("type").Matching(bluemonday.ListType).OnElements("ol", "ul", "li")
	p.AllowAttrs("value").Matching(bluemonday.Integer).OnElements("li")
	p.AllowAttrs("dir").Matching(bluemonday.Direction).Globally()
	// Style attributes pass through here and finish keeps only the allowed
	// declarations. bluemonday's own CSS handling is not used: it decodes
	// CSS escapes in quadratic time, and no value with an escape is allowed.
	p.AllowAttrs("style").Matching(noBackslash).Globally()

	// Absolute URLs only: a relative link would point into the desk itself.
	p.AllowRelativeURLs(false)
	p.AllowURLSchemes("http", "https", "mailto", "tel", "cid")
	p.AllowURLSchemeWithCustomPolicy("data", isDataImage)
	p.RequireNoFollowOnLinks(true)
	p.RequireNoReferrerOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true)
	p.SkipElementsContent(skipContent...)
	return p
}

// HTML sanitizes customer HTML, such as an email body, into HTML that is safe
// to show in the desk. It keeps text structure (paragraphs, emphasis, lists,
// tables, headings, quotes, links) and a few harmless inline styles, and
// drops everything else: scripts, styles, frames, forms, embedded objects,
// SVG and MathML, event handlers, ids and classes, and links that are not
// absolute http, https, mailto or tel URLs.
//
// Images load only from cid: (inline attachments, for the caller to resolve)
// or from base64 data: URLs of raster types. Any other image would be fetched
// from the sender's server, so it becomes the text "[image: alt]" instead;
// images declared 2 pixels wide or high or less (tracking pixels, spacers)
// are dropped silently.
func HTML(s string) template.HTML {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\x00", "\uFFFD") // as a browser reads NUL
	return template.HTML(finish(policy.Sanitize(s)))
}

// finish is the second pass over bluemonday's output. It must make the
// output safe on its own: it re-checks every element and attribute against
// the allow-lists, rewrites links and images, and escapes all text.
func finish(s string) string {
	var b strings.Builder
	b.Grow(len(s) + len(s)/8)
	z := html.NewTokenizer(strings.NewReader(s))
	var links []bool // per open <a>: whether its start tag was written
	for {
		switch z.Next() {
		case html.ErrorToken:
			return strings.TrimSpace(b.String())
		case html.TextToken:
			b.WriteString(html.EscapeString(string(z.Text())))
		case html.StartTagToken, html.SelfClosingTagToken:
			t := z.Token()
			if !allowedElements[t.Data] {
				continue
			}
			attrs := cleanAttrs(t.Attr)
			switch t.Data {
			case "a":
				href, ok := linkHref(attrs)
				links = append(links, ok)
				if !ok {
					continue
				}
				a := []html.Attribute{{Key: "href", Val: href}}
				if title, ok := attr(attrs, "title"); ok {
					a = append(a, html.Attribute{Key: "title", Val: title})
				}
				attrs = append(a,
					html.Attribute{Key: "rel", Val: linkRel},
					html.Attribute{Key: "target", Val: linkTarget})
			case "img":
				attrs = without(attrs, "href")
				src, _ := attr(attrs, "src")
				if !localImage(src) {
					if !tinyImage(attrs) {
						alt, _ := attr(attrs, "alt")
						b.WriteString(html.EscapeString(imagePlaceholder(alt)))
					}
					continue
				}
			default:
				attrs = without(attrs, "href", "src")
			}
			writeStartTag(&b, t.Data, attrs)
		case html.EndTagToken:
			name, _ := z.TagName()
			el := string(name)
			if !allowedElements[el] || voidElements[el] {
				continue
			}
			if el == "a" && len(links) > 0 {
				written := links[len(links)-1]
				links = links[:len(links)-1]
				if !written {
					continue
				}
			}
			b.WriteString("</" + el + ">")
		}
		// Comments and doctypes are dropped.
	}
}

// cleanAttrs keeps the first occurrence of each allowed attribute (browsers
// ignore repeats) and filters style declarations.
func cleanAttrs(in []html.Attribute) []html.Attribute {
	out := make([]html.Attribute, 0, len(in))
	for _, a := range in {
		if a.Namespace != "" || strings.HasPrefix(a.Key, "on") || !allowedAttrs[a.Key] {
			continue
		}
		if _, dup := attr(out, a.Key); dup {
			continue
		}
		if a.Key == "style" {
			if a.Val = cleanStyle(a.Val); a.Val == "" {
				continue
			}
		}
		out = append(out, a)
	}
	return out
}

// cleanStyle keeps the declarations of s that styleRules allow.
func cleanStyle(s string) string {
	var kept []string
	for decl := range strings.SplitSeq(s, ";") {
		prop, val, ok := strings.Cut(decl, ":")
		if !ok {
			continue
		}
		prop = strings.ToLower(strings.TrimSpace(prop))
		val = strings.TrimSpace(val)
		if rule := styleRules[prop]; rule != nil && rule.MatchString(val) {
			kept = append(kept, prop+": "+val)
		}
	}
	return strings.Join(kept, "; ")
}

// linkHref returns the href of an <a> if it is an absolute http(s) URL with
// a host, or a mailto: or tel: URL.
func linkHref(attrs []html.Attribute) (string, bool) {
	href, ok := attr(attrs, "href")
	if !ok {
		return "", false
	}
	u, err := url.Parse(href)
	if err != nil {
		return "", false
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		return href, u.Host != ""
	case "mailto", "tel":
		return href, u.Opaque != ""
	}
	return "", false
}

// localImage reports whether an image source can be shown without a network
// request to anyone the customer controls: a cid: reference to an attachment
// of the same message, or an inline base64 raster image.
func localImage(src string) bool {
	u, err := url.Parse(src)
	if err != nil {
		return false
	}
	switch strings.ToLower(u.Scheme) {
	case "cid":
		return u.Opaque != ""
	case "data":
		return isDataImage(u)
	}
	return false
}

// isDataImage accepts data:image/{png,gif,jpeg,webp};base64 URLs. SVG is
// left out: it is a document that can carry script.
func isDataImage(u *url.URL) bool {
	return strings.EqualFold(u.Scheme, "data") && u.RawQuery == "" &&
		u.Fragment == "" && dataImageValue.MatchString(u.Opaque)
}

// tinyImage reports whether an image is declared at most 2 pixels wide or
// high: a tracking pixel or spacer, not worth a placeholder.
func tinyImage(attrs []html.Attribute) bool {
	for _, k := range []string{"width", "height"} {
		if v, ok := attr(attrs, k); ok {
			if n, err := strconv.Atoi(v); err == nil && n <= 2 {
				return true
			}
		}
	}
	return false
}

// imagePlaceholder is the text shown instead of a remote image.
func imagePlaceholder(alt string) string {
	alt = Preview(alt, 80)
	if alt == "" {
		return "[image]"
	}
	return "[image: " + alt + "]"
}

func writeStartTag(b *strings.Builder, name string, attrs []html.Attribute) {
	b.WriteString("<" + name)
	for _, a := range attrs {
		b.WriteString(" " + a.Key + `="` + html.EscapeString(a.Val) + `"`)
	}
	b.WriteString(">")
}

func attr(attrs []html.Attribute, key string) (string, bool) {
	for _, a := range attrs {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func without(attrs []html.Attribute, keys ...string) []html.Attribute {
	out := attrs[:0]
	for _, a := range attrs {
		drop := false
		for _, k := range keys {
			drop = drop || a.Key == k
		}
		if !drop {
			out = append(out, a)
		}
	}
	return out
}

func setOf(items ...string) map[string]bool {
	m := make(map[string]bool, len(items))
	for _, it := range items {
		m[it] = true
	}
	return m
}
