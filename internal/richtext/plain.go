package richtext

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// Element classes for PlainFromHTML.
var (
	// paragraphs are set off by a blank line.
	paragraphs = setOf("p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote",
		"pre", "table", "ul", "ol", "dl", "hr", "figure", "address")
	// lines start and end on a line of their own.
	lines = setOf("div", "li", "tr", "dt", "dd", "caption", "center", "section",
		"article", "aside", "header", "footer", "nav", "main", "details",
		"summary", "fieldset", "legend", "form", "figcaption", "hgroup",
		"thead", "tbody", "tfoot")
	// hidden are elements whose content a reader never sees.
	hidden = setOf("script", "style", "title", "template", "noscript",
		"iframe", "object", "applet", "svg", "math", "noembed",
		"noframes", "textarea", "select")
)

// PlainFromHTML converts HTML to readable plain text for previews, search
// and SMS replies. Block elements become line breaks (paragraphs a blank
// line), list items start with "- ", table cells are separated by spaces,
// images become their alt text, entities are decoded and whitespace is
// collapsed except inside <pre>. The content of script, style, title and
// other elements that are never shown is dropped, as are comments.
func PlainFromHTML(s string) string {
	w := plainWriter{}
	z := html.NewTokenizer(strings.NewReader(strings.ToValidUTF8(s, "\uFFFD")))
	var skip []string        // open hidden elements, innermost last
	open := map[string]int{} // how many of each are in skip
	pre := 0                 // depth of open <pre>
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return w.String()
		case html.TextToken:
			if len(skip) == 0 {
				w.text(string(z.Text()), pre > 0)
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			t := z.Token()
			if len(skip) > 0 || hidden[t.Data] {
				// A self-closed <script/> still opens raw text up to
				// </script>; only foreign <svg/> and <math/> are empty.
				if hidden[t.Data] && (tt == html.StartTagToken || (t.Data != "svg" && t.Data != "math")) {
					skip = append(skip, t.Data)
					open[t.Data]++
				}
				continue
			}
			switch {
			case t.Data == "br":
				w.lineBreak()
			case t.Data == "li":
				w.block(1)
				w.text("- ", true)
			case t.Data == "td" || t.Data == "th":
				w.space()
			case t.Data == "img":
				if alt, _ := attr(t.Attr, "alt"); alt != "" {
					w.space()
					w.text(alt, false)
					w.space()
				}
			case paragraphs[t.Data]:
				w.block(2)
			case lines[t.Data]:
				w.block(1)
			}
			if t.Data == "pre" && tt == html.StartTagToken {
				pre++
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			el := string(name)
			if len(skip) > 0 {
				// Close the innermost matching hidden element, and any
				// unclosed ones inside it.
				for open[el] > 0 {
					top := skip[len(skip)-1]
					skip = skip[:len(skip)-1]
					open[top]--
					if top == el {
						break
					}
				}
				continue
			}
			switch {
			case el == "pre" && pre > 0:
				pre--
				w.block(2)
			case el == "td" || el == "th":
				w.space()
			case paragraphs[el]:
				w.block(2)
			case lines[el]:
				w.block(1)
			}
		}
	}
}

// plainWriter accumulates text, deferring spaces and line breaks until the
// next visible character so that none pile up at the edges.
type plainWriter struct {
	b         strings.Builder
	last      rune // last rune written
	pendLines int  // pending line breaks, at most 2
	pendSpace bool
}

// String returns the text with each line's trailing blanks and the
// surrounding whitespace removed.
func (w *plainWriter) String() string {
	out := strings.Split(w.b.String(), "\n")
	for i, line := range out {
		out[i] = strings.TrimRight(line, " \t")
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}

func (w *plainWriter) space() { w.pendSpace = true }

// block asks for n line breaks (1: new line, 2: blank line) before what
// follows.
func (w *plainWriter) block(n int) {
	w.pendLines = max(w.pendLines, n)
}

// lineBreak is <br>: each one adds a line, up to one blank line.
func (w *plainWriter) lineBreak() {
	w.pendLines = min(w.pendLines+1, 2)
}

// text writes decoded text; outside <pre> whitespace runs collapse to one
// space and padding characters are dropped.
func (w *plainWriter) text(s string, pre bool) {
	for i, r := range s {
		switch {
		case pre && r == '\n':
			w.lineBreak()
		case pre && (r == ' ' || r == '\t'):
			w.put(r)
		case unicode.IsSpace(r):
			w.pendSpace = true
		case unicode.IsControl(r), invisible(r):
		case r == '\u200C' && paddingJoiner(s, i):
		default:
			w.put(r)
		}
	}
}

// put writes r after any pending line breaks or space.
func (w *plainWriter) put(r rune) {
	if w.b.Len() > 0 {
		if w.pendLines > 0 {
			w.b.WriteString("\n\n"[:w.pendLines])
			w.last = '\n'
		} else if w.pendSpace && w.last != ' ' && w.last != '\n' {
			w.b.WriteByte(' ')
		}
	}
	w.pendLines, w.pendSpace = 0, false
	w.b.WriteRune(r)
	w.last = r
}

// paddingJoiner reports whether the zero-width non-joiner at s[i] stands next
// to whitespace or at an edge, where it only pads text (as in email
// preheaders) rather than shaping a word.
func paddingJoiner(s string, i int) bool {
	if i == 0 || i+len("\u200C") >= len(s) {
		return true
	}
	prev, _ := utf8.DecodeLastRuneInString(s[:i])
	next, _ := utf8.DecodeRuneInString(s[i+len("\u200C"):])
	return unicode.IsSpace(prev) || unicode.IsSpace(next)
}
