package email

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/touchpoint-hub/touchpoint/internal/richtext"
	"golang.org/x/net/html"
)

// finish builds the body fields of m from the collected content.
func (p *parser) finish(m *Message, c content) {
	text := strings.TrimSpace(normalizeNewlines(strings.Join(c.text, "\n")))
	rawHTML := strings.Join(c.html, "\n")
	forward := isForward(m.Subject)
	hasText := text != ""
	var visiblePlain string
	if strings.TrimSpace(rawHTML) != "" {
		full, visible := p.html(m, rawHTML, forward)
		m.HTML = string(richtext.HTML(full))
		m.VisibleHTML = m.HTML
		if visible != full {
			m.VisibleHTML = string(richtext.HTML(visible))
		}
		if !hasText {
			text = richtext.PlainFromHTML(full)
			visiblePlain = text
			if visible != full {
				visiblePlain = richtext.PlainFromHTML(visible)
			}
		}
	}
	m.Text = text
	switch {
	case forward:
		m.Visible = text
	case hasText:
		m.Visible = visibleText(text)
	default:
		m.Visible = visibleText(visiblePlain)
	}
}

func normalizeNewlines(s string) string {
	if !strings.Contains(s, "\r") {
		return s
	}
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
}

// html rewrites cid: references of rawHTML to placeholders and returns the
// whole document and the document without its quoted history (the same
// string when nothing was trimmed), both unsanitized.
func (p *parser) html(m *Message, rawHTML string, forward bool) (full, visible string) {
	doc, err := html.Parse(strings.NewReader(rawHTML))
	if err != nil {
		m.warn("", "html: "+firstLine(err.Error()))
		return rawHTML, rawHTML
	}
	p.rewriteCIDs(m, doc)
	full, err = render(doc)
	if err != nil {
		m.warn("", "html: "+firstLine(err.Error()))
		return rawHTML, rawHTML
	}
	if forward || !trimQuotedHTML(doc) {
		return full, full
	}
	visible, err = render(doc)
	if err != nil {
		return full, full
	}
	return full, visible
}

func render(n *html.Node) (string, error) {
	var b strings.Builder
	err := html.Render(&b, n)
	return b.String(), err
}

// rewriteCIDs points every cid: image at a placeholder naming the index of
// its attachment, so the desk can map it to a URL without parsing
// Content-IDs (which may hold anything). A cid: that names no attachment
// loses its src and becomes richtext's "[image]" placeholder.
func (p *parser) rewriteCIDs(m *Message, n *html.Node) {
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			for i := 0; i < len(n.Attr); i++ {
				a := &n.Attr[i]
				if a.Key != "src" || len(a.Val) < 4 || !strings.EqualFold(a.Val[:4], "cid:") {
					continue
				}
				idx := findCID(m.Attachments, a.Val[4:])
				if idx < 0 {
					n.Attr = append(n.Attr[:i], n.Attr[i+1:]...)
					i--
					continue
				}
				ph := "cid:part-" + strconv.Itoa(idx)
				a.Val = ph
				m.Attachments[idx].Inline = true
				if m.CIDs == nil {
					m.CIDs = map[string]int{}
				}
				m.CIDs[ph] = idx
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
}

func findCID(atts []Attachment, ref string) int {
	ref = strings.TrimSpace(ref)
	if u, err := url.PathUnescape(ref); err == nil {
		ref = u
	}
	ref = strings.Trim(ref, "<>")
	if ref == "" {
		return -1
	}
	fold := -1
	for i, a := range atts {
		if a.ContentID == ref {
			return i
		}
		if fold < 0 && strings.EqualFold(a.ContentID, ref) {
			fold = i
		}
	}
	return fold
}

// trimQuotedHTML removes the quoted history that mail clients mark in
// HTML; it reports whether it removed anything. Marks are classes and ids
// that richtext.HTML drops, which is why this runs before sanitizing.
func trimQuotedHTML(doc *html.Node) bool {
	var drop, dropAfter []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch {
			case hasClass(n, "gmail_quote"), hasClass(n, "gmail_quote_container"),
				hasClass(n, "moz-cite-prefix"), hasClass(n, "yahoo_quoted"),
				n.Data == "blockquote" && strings.EqualFold(attr(n, "type"), "cite"):
				drop = append(drop, n)
				return
			case attr(n, "id") == "divRplyFwdMsg", attr(n, "id") == "mail-editor-reference-message-container",
				hasClass(n, "OutlookMessageHeader"), outlookDesktopHeader(n):
				dropAfter = append(dropAfter, n)
				return
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if len(dropAfter) > 0 {
		// Outlook puts its header block before the quoted message, not
		// around it: everything from the header on is history.
		n := dropAfter[0]
		if prev := prevElement(n); prev != nil && prev.Data == "hr" {
			removeNode(prev)
		}
		for cur := n; cur != nil && cur.Data != "body" && cur.Type != html.DocumentNode; cur = cur.Parent {
			for cur.NextSibling != nil {
				removeNode(cur.NextSibling)
			}
		}
		removeNode(n)
	}
	for _, n := range drop {
		removeNode(n)
	}
	return len(drop)+len(dropAfter) > 0
}

// outlookDesktopHeader spots the header block Outlook for Windows writes
// above a quoted message: a div with a thin top border whose text starts
// with a "From:" label.
func outlookDesktopHeader(n *html.Node) bool {
	if n.Data != "div" {
		return false
	}
	st := strings.ToLower(strings.ReplaceAll(attr(n, "style"), " ", ""))
	if !strings.Contains(st, "border-top:solid#e1e1e1") && !strings.Contains(st, "border-top:solid#b5c4df") {
		return false
	}
	return outlookFrom.MatchString(strings.TrimSpace(textOf(n, 40)))
}

var outlookFrom = regexp.MustCompile(`(?i)^(from|von|de|da|van|från|fra|od|от)\s?:`)

func textOf(n *html.Node, max int) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if b.Len() >= max {
			return
		}
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

func prevElement(n *html.Node) *html.Node {
	for s := n.PrevSibling; s != nil; s = s.PrevSibling {
		if s.Type == html.ElementNode {
			return s
		}
		if s.Type == html.TextNode && strings.TrimSpace(s.Data) != "" {
			return nil
		}
	}
	return nil
}

func removeNode(n *html.Node) {
	if n.Parent != nil {
		n.Parent.RemoveChild(n)
	}
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasClass(n *html.Node, class string) bool {
	for _, c := range strings.Fields(attr(n, "class")) {
		if c == class {
			return true
		}
	}
	return false
}

// Quote marks in plain text.
var (
	// attribution ends "On <date>, <person> wrote:" and its translations;
	// it is matched on up to three joined lines, as clients wrap it.
	attribution = regexp.MustCompile(`(?i)^(on|am|le|el|il|op|em|den|på|w dniu|dne)\s.{0,300}(wrote|schrieb|a écrit|escribió|ha scritto|schreef|escreveu|skrev|napisał|napsal)[\s\x{a0}]*:$`)
	// originalMessage is Outlook's and others' separator line.
	originalMessage = regexp.MustCompile(`(?i)^-{2,}\s*(original message|ursprüngliche nachricht|message d'origine|mensaje original|messaggio originale|oorspronkelijk bericht|originalmeddelande|opprinnelig melding|mensagem original|wiadomość oryginalna)\s*-{2,}$`)
	// headerFrom and headerSent start the header block Outlook writes
	// above the message it quotes (in text or PlainFromHTML output).
	headerFrom = regexp.MustCompile(`(?i)^\*?(from|von|de|da|van|från|fra|od|от)\s?:\*?\s*\S`)
	headerSent = regexp.MustCompile(`(?i)^\*?(sent|date|gesendet|datum|envoyé|enviado|inviato|verzonden|skickat|sendt|wysłano|fecha|отправлено)\s?:\*?\s*\S`)
	headerTo   = regexp.MustCompile(`(?i)^\*?(to|subject|an|betreff|à|objet|para|asunto|a|oggetto|aan|onderwerp|till|ämne|til|emne|do|temat|кому|тема)\s?:`)
	underline  = regexp.MustCompile(`^_{10,}$`)
	// forwardPrefix is a subject that forwards, outermost prefix only.
	forwardPrefix = regexp.MustCompile(`(?i)^\s*(fwd?|wg|tr|rv|enc|i|doorst)\s*:`)
)

// isForward reports whether a subject is a forward (not a reply to one):
// its quoted content is the point of the message and stays visible.
func isForward(subject string) bool {
	return forwardPrefix.MatchString(subject)
}

// visibleText trims the quoted history from a reply's text: everything
// from an Outlook header block or "Original Message" line on, "On … wrote:"
// lines, and lines quoted with ">". It keeps text written between quotes
// (bottom posting, inline answers). When nothing would be left, the whole
// text is the answer.
func visibleText(s string) string {
	lines := strings.Split(s, "\n")
	if cut := historyStart(lines); cut >= 0 {
		lines = lines[:cut]
	}
	out := make([]string, 0, len(lines))
	for i := 0; i < len(lines); i++ {
		t := strings.TrimSpace(lines[i])
		if strings.HasPrefix(t, ">") {
			continue
		}
		if n := attributionLines(lines, i); n > 0 {
			i += n - 1
			continue
		}
		if t != "--" { // keep the signature delimiter "-- " whole
			lines[i] = strings.TrimRight(lines[i], " \t")
		}
		out = append(out, lines[i])
	}
	v := collapseBlank(out)
	if v == "" {
		return strings.TrimSpace(s)
	}
	return v
}

// historyStart is the index of the first line of an unquoted history
// block, or -1.
func historyStart(lines []string) int {
	for i, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" {
			continue
		}
		if originalMessage.MatchString(t) {
			return i
		}
		if headerFrom.MatchString(t) && outlookBlock(lines[i+1:]) {
			// Take the separator line above the block with it.
			j := i - 1
			for j >= 0 && strings.TrimSpace(lines[j]) == "" {
				j--
			}
			if j >= 0 && underline.MatchString(strings.TrimSpace(lines[j])) {
				return j
			}
			return i
		}
		// An attribution followed by unquoted text is a top-posted reply
		// from a client that does not quote with ">": cut there.
		if n := attributionLines(lines, i); n > 0 {
			k := i + n
			for k < len(lines) && strings.TrimSpace(lines[k]) == "" {
				k++
			}
			if k < len(lines) && !strings.HasPrefix(strings.TrimSpace(lines[k]), ">") {
				return i
			}
		}
	}
	return -1
}

// outlookBlock reports whether the lines after a "From:" line carry the
// rest of a header block: a Sent/Date line and a To/Subject line.
func outlookBlock(rest []string) bool {
	sent, to := false, false
	for i := 0; i < len(rest) && i < 6; i++ {
		t := strings.TrimSpace(rest[i])
		sent = sent || headerSent.MatchString(t)
		to = to || headerTo.MatchString(t)
	}
	return sent && to
}

// attributionLines returns how many lines (1 to 3) starting at i make an
// "On … wrote:" attribution, or 0.
func attributionLines(lines []string, i int) int {
	first := strings.TrimSpace(lines[i])
	if first == "" || len(first) > 400 || strings.HasPrefix(first, ">") {
		return 0
	}
	joined := first
	for n := 1; n <= 3 && i+n <= len(lines); n++ {
		if n > 1 {
			next := strings.TrimSpace(lines[i+n-1])
			if next == "" {
				return 0
			}
			joined += " " + next
		}
		if strings.HasSuffix(joined, ":") && attribution.MatchString(joined) {
			return n
		}
	}
	return 0
}

// collapseBlank joins lines, keeping at most one blank line in a row.
func collapseBlank(lines []string) string {
	var b strings.Builder
	blank := 0
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			blank++
			continue
		}
		if b.Len() > 0 {
			if blank > 0 {
				b.WriteString("\n\n")
			} else {
				b.WriteByte('\n')
			}
		}
		blank = 0
		b.WriteString(l)
	}
	return b.String()
}
