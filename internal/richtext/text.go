package richtext

import (
	"html"
	"html/template"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Text renders plain text, such as a chat message or an SMS, as HTML. All of
// the input is escaped, so it never produces markup of its own; the only
// markup in the output is <br> for each line break and a link (with the same
// rel and target as HTML gives) for each http:// or https:// URL.
func Text(s string) template.HTML {
	s = normalizeText(s)
	var b strings.Builder
	b.Grow(len(s) + len(s)/4)
	for s != "" {
		start, end := nextURL(s)
		if start < 0 {
			writeLines(&b, s)
			break
		}
		writeLines(&b, s[:start])
		u := html.EscapeString(s[start:end])
		b.WriteString(`<a href="` + u + `" rel="` + linkRel + `" target="` + linkTarget + `">` + u + `</a>`)
		s = s[end:]
	}
	return template.HTML(b.String())
}

// normalizeText makes s valid UTF-8, turns NUL (which a browser drops) into
// U+FFFD and all line endings into "\n".
func normalizeText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\x00", "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\r", "\n")
}

// writeLines writes s escaped, with <br> for each newline.
func writeLines(b *strings.Builder, s string) {
	for i, line := range strings.Split(s, "\n") {
		if i > 0 {
			b.WriteString("<br>")
		}
		b.WriteString(html.EscapeString(line))
	}
}

// nextURL finds the first http(s) URL in s and returns its byte offsets, or
// -1, -1. A URL starts at a word boundary and runs to whitespace, a control
// or format character (a bidi override must not disguise where a link goes)
// or one of <>"; trailing punctuation and unbalanced closing brackets are
// left out, as in "see https://example.com/x)." .
func nextURL(s string) (int, int) {
	for i := 0; i < len(s); i++ {
		if s[i] != 'h' && s[i] != 'H' {
			continue
		}
		var rest int
		switch {
		case hasPrefixFold(s[i:], "https://"):
			rest = i + len("https://")
		case hasPrefixFold(s[i:], "http://"):
			rest = i + len("http://")
		default:
			continue
		}
		if i > 0 {
			if prev, _ := utf8.DecodeLastRuneInString(s[:i]); unicode.IsLetter(prev) || unicode.IsDigit(prev) {
				continue
			}
		}
		end := rest
		for end < len(s) {
			r, size := utf8.DecodeRuneInString(s[end:])
			if unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || strings.ContainsRune(`<>"`, r) {
				break
			}
			end += size
		}
		end = trimURLEnd(s[i:end]) + i
		// The host must start with a letter, a digit or "[" (IPv6).
		if end > rest {
			if r, _ := utf8.DecodeRuneInString(s[rest:]); unicode.IsLetter(r) || unicode.IsDigit(r) || r == '[' {
				return i, end
			}
		}
	}
	return -1, -1
}

// trimURLEnd returns the length of u without trailing punctuation that is
// more likely part of the sentence than of the URL.
func trimURLEnd(u string) int {
	for u != "" {
		last := u[len(u)-1]
		switch {
		case strings.IndexByte(".,:;!?'*_~", last) >= 0:
		case last == ')' && strings.Count(u, "(") < strings.Count(u, ")"):
		case last == ']' && strings.Count(u, "[") < strings.Count(u, "]"):
		case last == '}' && strings.Count(u, "{") < strings.Count(u, "}"):
		default:
			return len(u)
		}
		u = u[:len(u)-1]
	}
	return 0
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// Preview returns plain text s on one line, cut to at most n runes. All runs
// of whitespace become one space; control, invisible and bidi override
// characters are dropped. When s is longer than n runes it is cut, at a word
// boundary if one is near, never inside a UTF-8 sequence and, for common
// cases, not inside a character built from several code points (combining
// marks, emoji sequences, flags); "…" marks the cut and counts as one of the
// n runes. To preview HTML, pass it through PlainFromHTML first.
func Preview(s string, n int) string {
	if n <= 0 {
		return ""
	}
	s = oneLine(s)
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	cut := 0
	for range n - 1 {
		_, size := utf8.DecodeRuneInString(s[cut:])
		cut += size
	}
	// Prefer the end of a word within the last few runes.
	if s[cut] != ' ' {
		if i := strings.LastIndexByte(s[:cut], ' '); i > 0 && utf8.RuneCountInString(s[i:cut]) <= 12 {
			cut = i
		}
	}
	cut = clusterBoundary(s, cut)
	return strings.TrimRight(s[:cut], " ") + "…"
}

// oneLine collapses whitespace and drops characters that do not belong in a
// one-line preview.
func oneLine(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
			space = b.Len() > 0
		case unicode.IsControl(r), invisible(r):
		default:
			if space {
				b.WriteByte(' ')
				space = false
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

// invisible reports zero-width characters that only pad text (email
// preheaders are full of them) and bidi embeddings, overrides and isolates,
// which could reorder the text around a preview.
func invisible(r rune) bool {
	switch r {
	case '\u00AD', '\u034F', '\u200B', '\u2060', '\uFEFF':
		return true
	}
	return (r >= '\u202A' && r <= '\u202E') || (r >= '\u2066' && r <= '\u2069')
}

// clusterBoundary moves cut back so that it does not separate a base
// character from the marks, joiners, modifiers or flag half that follow it.
func clusterBoundary(s string, cut int) int {
	for cut > 0 {
		next, _ := utf8.DecodeRuneInString(s[cut:])
		prev, size := utf8.DecodeLastRuneInString(s[:cut])
		if unicode.Is(unicode.M, next) || next == '\u200D' || prev == '\u200D' ||
			(next >= 0x1F3FB && next <= 0x1F3FF) || (next >= 0xE0020 && next <= 0xE007F) ||
			(regionalIndicator(next) && oddFlagRun(s[:cut])) {
			cut -= size
			continue
		}
		break
	}
	return cut
}

func regionalIndicator(r rune) bool { return r >= 0x1F1E6 && r <= 0x1F1FF }

// oddFlagRun reports whether s ends in an odd number of regional indicators,
// that is, in the first half of a flag.
func oddFlagRun(s string) bool {
	n := 0
	for s != "" {
		r, size := utf8.DecodeLastRuneInString(s)
		if !regionalIndicator(r) {
			break
		}
		n++
		s = s[:len(s)-size]
	}
	return n%2 == 1
}
