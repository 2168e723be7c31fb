package knowledge

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"html"
	"html/template"
	"regexp"
	"strconv"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"

	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/richtext"
	"github.com/touchpoint-hub/touchpoint/internal/store"
)

// factTag matches {{fact "name"}}. The name part also takes the highlight
// marks of search snippets (\x01, \x02), which are stripped before lookup.
var factTag = regexp.MustCompile(`\{\{\s*fact\s+"([^"{}\n]{0,200})"\s*\}\}`)

// Private-use characters that stand for a missing fact while Markdown is
// rendered and sanitized; cleanText removes them from stored text.
const (
	markGapOpen  = '\uE000'
	markGapClose = '\uE001'
)

// markdown renders CommonMark with tables, strikethrough and autolinks. Raw
// HTML is left out (goldmark's default); the sanitizer runs afterwards all
// the same, so neither a goldmark bug nor a later option can let script in.
var markdown = goldmark.New(goldmark.WithExtensions(extension.Table, extension.Strikethrough, extension.Linkify))

// Ref names a version of an article or fact that was shown: what a citation records.
type Ref struct {
	Kind    string `json:"kind"` // article or fact
	ID      id.ID  `json:"id"`
	Name    string `json:"name,omitempty"` // fact name or article slug
	Version int    `json:"version"`
}

// FormatRefs writes refs as "article:ID:VERSION fact:ID:VERSION": a
// citation list that fits in a form field or an idempotency key.
func FormatRefs(refs []Ref) string {
	parts := make([]string, 0, len(refs))
	for _, r := range refs {
		parts = append(parts, r.Kind+":"+r.ID.String()+":"+strconv.Itoa(r.Version))
	}
	return strings.Join(parts, " ")
}

// FactValue is the published value of a fact as resolved for a locale.
type FactValue struct {
	FactID  id.ID
	Name    string
	Locale  string
	Version int
	Value   string
}

// missingFact is how a fact that does not exist (or has no published
// version) appears in text: visibly, never as an empty string.
func missingFact(name string) string { return "[missing fact: " + name + "]" }

// tagNames lists the distinct fact names the tags in text use.
func tagNames(text string) []string {
	var names []string
	seen := map[string]bool{}
	for _, m := range factTag.FindAllStringSubmatch(text, -1) {
		n := stripMarks(m[1])
		if !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	return names
}

func stripMarks(s string) string {
	return strings.TrimSpace(strings.NewReplacer("\x01", "", "\x02", "").Replace(s))
}

// resolveFacts reads the published values of names for locale: a fact in
// the locale itself wins over one in its language ("pt" for "pt-BR"), which
// wins over the default (locale "").
func (s *Service) resolveFacts(ctx context.Context, q querier, names []string, locale string) (map[string]FactValue, error) {
	out := map[string]FactValue{}
	var valid []any
	for _, n := range names {
		if factRE.MatchString(n) {
			valid = append(valid, n)
		}
	}
	if len(valid) == 0 {
		return out, nil
	}
	locales := []any{""}
	if locale != "" {
		locales = append(locales, locale, language(locale))
	}
	args := append(append([]any{}, valid...), locales...)
	rows, err := q.Query(ctx, `SELECT f.id, f.name, f.locale, v.version, v.value FROM kb_facts f
		JOIN kb_fact_versions v ON v.fact_id = f.id AND v.status = 'published'
		WHERE f.name IN (`+store.Placeholders(len(valid))+`) AND f.locale IN (`+store.Placeholders(len(locales))+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("resolving facts: %w", err)
	}
	defer rows.Close()
	rank := func(l string) int {
		switch l {
		case locale:
			return 3
		case language(locale):
			return 2
		}
		return 1
	}
	for rows.Next() {
		var f FactValue
		if err := rows.Scan(&f.FactID, &f.Name, &f.Locale, &f.Version, &f.Value); err != nil {
			return nil, err
		}
		if cur, ok := out[f.Name]; !ok || rank(f.Locale) > rank(cur.Locale) {
			out[f.Name] = f
		}
	}
	return out, rows.Err()
}

// querier is what reads need from a DB or a Tx.
type querier interface {
	Query(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

// RenderFacts replaces every {{fact "name"}} in text (a reply, a template,
// an SMS) with the fact's current published value for locale, and returns
// the versions it used, for citing. An unknown fact becomes
// "[missing fact: name]" so that a gap is seen, not sent as nothing.
func (s *Service) RenderFacts(ctx context.Context, text, locale string) (string, []Ref, error) {
	names := tagNames(text)
	if len(names) == 0 {
		return text, nil, nil
	}
	vals, err := s.resolveFacts(ctx, s.db, names, locale)
	if err != nil {
		return "", nil, err
	}
	out := factTag.ReplaceAllStringFunc(text, func(tag string) string {
		n := stripMarks(factTag.FindStringSubmatch(tag)[1])
		if v, ok := vals[n]; ok {
			return v.Value
		}
		return missingFact(n)
	})
	return out, factRefs(names, vals), nil
}

func factRefs(names []string, vals map[string]FactValue) []Ref {
	var refs []Ref
	for _, n := range names {
		if v, ok := vals[n]; ok {
			refs = append(refs, Ref{Kind: "fact", ID: v.FactID, Name: v.Name, Version: v.Version})
		}
	}
	return refs
}

// markdownEscaper backslash-escapes the characters that mean something in
// Markdown, so that a fact's value is shown as the text it is.
var markdownEscaper = func() *strings.Replacer {
	var pairs []string
	for _, c := range "\\`*_{}[]()<>#+-.!|~&\"'" {
		pairs = append(pairs, string(c), `\`+string(c))
	}
	return strings.NewReplacer(pairs...)
}()

// RenderMarkdown turns an article body into safe HTML with its facts
// resolved for locale, and returns the fact versions it used. The HTML goes
// through richtext.HTML (allow-listed elements and attributes, no script,
// no javascript: links, no remote images); only then are missing facts
// marked, with markup written here from escaped names.
func (s *Service) RenderMarkdown(ctx context.Context, body, locale string) (template.HTML, []Ref, error) {
	body = cleanText(body)
	names := tagNames(body)
	vals, err := s.resolveFacts(ctx, s.db, names, locale)
	if err != nil {
		return "", nil, err
	}
	var missing []string
	src := factTag.ReplaceAllStringFunc(body, func(tag string) string {
		n := stripMarks(factTag.FindStringSubmatch(tag)[1])
		if v, ok := vals[n]; ok {
			return markdownEscaper.Replace(v.Value)
		}
		missing = append(missing, n)
		return string(markGapOpen) + strconv.Itoa(len(missing)-1) + string(markGapClose)
	})
	var buf bytes.Buffer
	if err := markdown.Convert([]byte(src), &buf); err != nil {
		return "", nil, fmt.Errorf("rendering markdown: %w", err)
	}
	out := string(richtext.HTML(buf.String()))
	if len(missing) > 0 {
		out = gapMark.ReplaceAllStringFunc(out, func(m string) string {
			i, err := strconv.Atoi(m[len(string(markGapOpen)) : len(m)-len(string(markGapClose))])
			if err != nil || i >= len(missing) {
				return ""
			}
			return `<mark class="kb-missing-fact">` + html.EscapeString(missingFact(missing[i])) + `</mark>`
		})
	}
	return template.HTML(out), factRefs(names, vals), nil
}

var gapMark = regexp.MustCompile("\uE000[0-9]+\uE001")

// plainBody is the text that search indexes for a Markdown body: what a
// reader sees, with fact tags kept as they are (their values change without
// a new version, so they are resolved when shown, see snippetHTML).
func plainBody(body string) string {
	var buf bytes.Buffer
	if err := markdown.Convert([]byte(body), &buf); err != nil {
		return body
	}
	return richtext.PlainFromHTML(buf.String())
}
