package desk

import (
	"context"
	"html/template"
	"strconv"
	"strings"

	"github.com/touchpoint-hub/touchpoint/internal/cases"
	"github.com/touchpoint-hub/touchpoint/internal/customer"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/interaction"
	"github.com/touchpoint-hub/touchpoint/internal/knowledge"
	"github.com/touchpoint-hub/touchpoint/internal/richtext"
)

// suggestion is one suggested answer in the case page's assist panel: what
// "Insert" puts into the composer, and the versions to cite when sent.
type suggestion struct {
	Kind    string        // article or fact
	Title   string        // article title or fact name
	Snippet template.HTML // search snippet: escaped, <mark> only
	HTML    template.HTML // the article through the safe renderer
	Text    string        // Markdown with facts filled in (email)
	Plain   string        // plain text (SMS, WhatsApp, social)
	Cite    string        // refs, see citeString
}

const (
	maxAssistWords    = 8
	maxAssistArticles = 4
	maxAssistFacts    = 4
	maxCites          = 50
)

// assistWords picks the words of the case subject and of the latest inbound
// messages on the case, subject first.
func assistWords(c *cases.Case, items []*interaction.Interaction) []string {
	texts := []string{c.Subject}
	n := 0
	for _, it := range items { // newest first
		if n == 3 || it.CaseID == nil || *it.CaseID != c.ID || it.Direction != interaction.Inbound {
			continue
		}
		texts = append(texts, it.Subject, richtext.PlainFromHTML(it.Content))
		n++
	}
	return knowledge.Keywords(maxAssistWords, texts...)
}

// customerLocale is the customer's language trait, if any ("" = default).
func customerLocale(cust *customer.Customer) string {
	for _, k := range []string{"language", "locale"} {
		if s, ok := cust.Traits[k].(string); ok && len(s) <= 35 {
			return strings.TrimSpace(s)
		}
	}
	return ""
}

// suggestions finds the published articles (agents audience: every
// article, never a draft) and facts that match the conversation.
func (d *Desk) suggestions(ctx context.Context, c *cases.Case, cust *customer.Customer, items []*interaction.Interaction) ([]suggestion, error) {
	if d.Knowledge == nil {
		return nil, nil
	}
	words := assistWords(c, items)
	if len(words) == 0 {
		return nil, nil
	}
	locale := customerLocale(cust)
	hits, err := d.Knowledge.Relevant(ctx, words, knowledge.Agents, "", maxAssistArticles)
	if err != nil {
		return nil, err
	}
	var out []suggestion
	for _, hit := range hits {
		a, err := d.Knowledge.Article(ctx, hit.ArticleID)
		if err != nil {
			return nil, err
		}
		if a.Published == nil { // unpublished since the search
			continue
		}
		loc := locale
		if loc == "" {
			loc = a.Locale
		}
		rd, err := d.Knowledge.RenderVersion(ctx, a, a.Published, loc)
		if err != nil {
			return nil, err
		}
		text, _, err := d.Knowledge.RenderFacts(ctx, a.Published.Body, loc)
		if err != nil {
			return nil, err
		}
		out = append(out, suggestion{Kind: "article", Title: a.Published.Title, Snippet: hit.Snippet, HTML: rd.HTML,
			Text: text, Plain: richtext.PlainFromHTML(string(rd.HTML)), Cite: citeString(rd.Cites)})
	}
	facts, err := d.matchingFacts(ctx, words, locale)
	if err != nil {
		return nil, err
	}
	return append(out, facts...), nil
}

// matchingFacts are the published facts a part of whose name is one of the
// words ("shipping" finds shipping.fee), filled in for the locale.
func (d *Desk) matchingFacts(ctx context.Context, words []string, locale string) ([]suggestion, error) {
	all, _, err := d.Knowledge.ListFacts(ctx, knowledge.FactFilter{Limit: 500})
	if err != nil {
		return nil, err
	}
	var out []suggestion
	seen := map[string]bool{}
	for _, f := range all {
		if f.Published == nil || seen[f.Name] || !nameMatches(f.Name, words) {
			continue
		}
		seen[f.Name] = true
		text, refs, err := d.Knowledge.RenderFacts(ctx, `{{fact "`+f.Name+`"}}`, locale)
		if err != nil {
			return nil, err
		}
		if len(refs) == 0 { // no value for this locale
			continue
		}
		out = append(out, suggestion{Kind: "fact", Title: f.Name, Text: text, Plain: text, Cite: citeString(refs)})
		if len(out) == maxAssistFacts {
			break
		}
	}
	return out, nil
}

func nameMatches(name string, words []string) bool {
	for _, part := range strings.FieldsFunc(name, func(r rune) bool { return r == '.' || r == '_' || r == '-' }) {
		for _, w := range words {
			// "ship" and "shipping", "deliveries" and "delivery": a shared
			// stem of four letters or more.
			n := min(len(part), len(w))
			if n >= 4 && part[:n] == w[:n] || part == w {
				return true
			}
		}
	}
	return false
}

// citeString writes refs for the composer, which sends them back with the
// reply as cite fields. (The page carries them in data-refs: html/template
// takes any attribute named *cite for a URL.)
func citeString(refs []knowledge.Ref) string { return knowledge.FormatRefs(refs) }

// parseCites reads the cite fields of a reply. Unreadable ones are bad
// input; whether each version was published is checked when citing.
func parseCites(values []string) ([]knowledge.Ref, error) {
	var refs []knowledge.Ref
	seen := map[string]bool{}
	for _, v := range values {
		for _, tok := range strings.Fields(v) {
			if seen[tok] {
				continue
			}
			seen[tok] = true
			parts := strings.Split(tok, ":")
			if len(parts) != 3 || (parts[0] != "article" && parts[0] != "fact") {
				return nil, errInvalid("cite", "is not a citation this desk wrote")
			}
			x, err := id.Parse(parts[1])
			n, err2 := strconv.Atoi(parts[2])
			if err != nil || err2 != nil || n < 1 {
				return nil, errInvalid("cite", "is not a citation this desk wrote")
			}
			refs = append(refs, knowledge.Ref{Kind: parts[0], ID: x, Version: n})
			if len(refs) > maxCites {
				return nil, errInvalid("cite", "names too many articles and facts")
			}
		}
	}
	return refs, nil
}
